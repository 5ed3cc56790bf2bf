"""“Mənim məlumatlarım” in a real browser (Debian's Chromium): the citizen opens the page from the
home page, downloads their data as JSON and as PDF, and withdraws the consent given with an open
claim, which withdraws the claim."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from claims.models import Claim, ConsentRecord
from claims.transitions import ClaimStatus


def test_the_citizen_downloads_their_data_and_withdraws_a_consent(journey, registered_claim, cast):
    page = journey.page
    journey.citizen_login(show=False)
    with page.expect_navigation():
        page.get_by_role("link", name="Mənim məlumatlarım").click()
    expect(page.locator("h1")).to_have_text("Mənim məlumatlarım")
    main = page.locator("main")
    expect(main).to_contain_text(registered_claim.number)
    expect(main).to_contain_text("+994501234567")
    expect(main).to_contain_text("versiya 1 (az)")

    with page.expect_download() as download:
        page.get_by_role("link", name="JSON faylı kimi yüklə").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["person"]["fin"] == cast.citizen_fin
    assert [c["number"] for c in data["claims"]] == [registered_claim.number]
    consent = data["consents"][0]
    assert (consent["version"], consent["channel"]) == (1, registered_claim.channel)
    assert consent["method"] == ("page" if registered_claim.channel == "azersu_web" else "assertion")

    with page.expect_download() as download:
        page.get_by_role("link", name="PDF faylı kimi yüklə").click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"

    card = page.locator(f"#consent-{ConsentRecord.objects.get(claim=registered_claim).pk}")
    expect(card).to_contain_text("müraciət geri götürüləcək")  # what withdrawing means for an open claim
    with page.expect_navigation():
        card.get_by_role("button").click()
    expect(main).to_contain_text(f"{registered_claim.number} nömrəli müraciət üzrə razılığınız geri götürüldü.")
    expect(card).to_contain_text("Geri götürülüb")
    expect(card.get_by_role("button")).to_have_count(0)
    assert Claim.objects.get(pk=registered_claim.pk).status == ClaimStatus.WITHDRAWN
