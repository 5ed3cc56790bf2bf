"""Nobody sees what is not theirs: another citizen, another holder's account. A citizen's claims are
his through any channel."""

from __future__ import annotations

import pytest

from .conftest import Api, claim_form

pytestmark = pytest.mark.usefixtures("default_templates")


def _file(api: Api, account, jpeg_upload, key: str = "k-1") -> str:
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    response = api.post("/claims/", claim_form(account, photos=photos), headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.content
    return response.json()["number"]


def _not_found(response) -> None:
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found")


def test_any_channel_reads_the_citizens_claims_whichever_channel_filed_them(egov, esu, citizen, other_citizen,
                                                                              account, account_two_meters,
                                                                              jpeg_upload):
    """e-gov.az shows the citizen a claim filed on e-su.az (or on the portal); the citizen acts on
    it there too. Another citizen, through the same channels, sees none of it."""
    from testkit.factories import register

    number = _file(Api(esu, citizen.fin), account, jpeg_upload)
    on_portal = register(citizen, account_two_meters, key="portal-1")  # filed on the portal
    egov_citizen = Api(egov, citizen.fin)

    body = egov_citizen.get(f"/claims/{number}/").json()
    assert body["number"] == number and body["channel"] == "esu"
    assert egov_citizen.get(f"/claims/{on_portal.number}/").json()["channel"] == "azersu_web"
    assert {c["number"] for c in egov_citizen.get("/claims/").json()} == {number, on_portal.number}

    for channel in (egov, esu):
        stranger = Api(channel, other_citizen.fin)
        assert stranger.get("/claims/").json() == []
        for claim_number in (number, on_portal.number):
            _not_found(stranger.get(f"/claims/{claim_number}/"))
            _not_found(stranger.get(f"/claims/{claim_number}/letter/"))
            _not_found(stranger.post(f"/claims/{claim_number}/withdraw/"))
            _not_found(stranger.post(f"/claims/{claim_number}/answer/", {"text": "Salam"}))

    # The citizen withdraws the e-su.az claim through e-gov.az.
    assert egov_citizen.post(f"/claims/{number}/withdraw/").json()["status"] == "withdrawn"
    assert Api(esu, citizen.fin).get(f"/claims/{number}/").json()["status"] == "withdrawn"


def test_another_channel_cannot_replay_an_idempotency_key_into_the_first_claim(egov, esu, citizen, account,
                                                                              jpeg_upload):
    number = _file(Api(egov, citizen.fin), account, jpeg_upload)
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    again = Api(esu, citizen.fin).post("/claims/", claim_form(account, photos=photos),
                                       headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 409  # the invoice's open claim, by number only
    assert again.json()["claim_number"] == number
    assert Api(egov, citizen.fin).get(f"/claims/{number}/").json()["status"] == "forwarded"


def test_a_second_citizen_gets_404_and_an_empty_list(egov, citizen, other_citizen, account, jpeg_upload):
    number = _file(Api(egov, citizen.fin), account, jpeg_upload)
    other = Api(egov, other_citizen.fin)
    _not_found(other.get(f"/claims/{number}/"))
    _not_found(other.post(f"/claims/{number}/withdraw/"))
    _not_found(other.get(f"/claims/{number}/letter/"))
    assert other.get("/claims/").json() == []
    assert [c["number"] for c in Api(egov, citizen.fin).get("/claims/").json()] == [number]


def test_the_own_account_is_shown_in_full(egov, citizen, account):
    api = Api(egov, citizen.fin)
    body = api.get(f"/accounts/{account.subscriber_code}/").json()
    assert body["holds"] is True
    assert body["holder_name"] == "Əliyev Rəşad Elşən oğlu"
    assert body["address"] == account.address
    assert body["branch"] == {"code": "BAK-YAS", "name": "Yasamal rayon idarəsi"}
    assert body["meters"][0]["serial_number"] == account.meters.get().serial_number
    assert len(body["invoices"]) == 12
    latest = account.invoices.order_by("-period").first()
    assert body["invoices"][0]["number"] == latest.number
    assert body["invoices"][0]["total"] == f"{latest.total:.2f}"
    assert body["invoices"][0]["period"] == latest.period.isoformat()
    assert [a["subscriber_code"] for a in api.get("/accounts/").json()] == [account.subscriber_code]


def test_a_foreign_account_masks_the_holder_and_hides_the_rest(egov, citizen, foreign_account):
    body = Api(egov, citizen.fin).get(f"/accounts/{foreign_account.subscriber_code}/").json()
    assert body["holds"] is False
    assert body["holder_name"] == "H******** N**** V**** q***"
    assert body["address"] is None and body["branch"] is None and body["category"] is None
    assert body["meters"] is None
    invoice = body["invoices"][0]
    assert set(invoice) == {"number", "period", "period_start", "period_end", "issued_on", "due_on", "consumption",
                            "water_amount", "sewerage_amount", "total", "estimated", "lines"}
    assert "Hüseynova" not in str(body)
    assert Api(egov, citizen.fin).get("/accounts/").json() == []  # not his


def test_foreign_look_ups_are_limited_per_citizen_and_hour(egov, citizen, other_citizen, foreign_account, account,
                                                           settings):
    settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR = 2
    api = Api(egov, citizen.fin)
    code = foreign_account.subscriber_code
    # The same foreign account read through several operations counts once.
    assert api.get(f"/accounts/{code}/").status_code == 200
    assert api.get(f"/accounts/{code}/invoices/").status_code == 200
    _not_found(api.get("/accounts/9999999999/"))  # a guess counts too
    refused = api.get("/accounts/9999999998/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert 1 <= int(refused["Retry-After"]) <= 3600
    # Already looked at this hour: still readable; his own accounts are never limited.
    assert api.get(f"/accounts/{code}/").status_code == 200
    assert api.get(f"/accounts/{account.subscriber_code}/").status_code == 200
    # Another citizen has his own budget.
    assert Api(egov, other_citizen.fin).get("/accounts/1020304050/").status_code == 200


def test_unknown_codes_invoices_and_paths_are_404_problems(egov, citizen, account):
    api = Api(egov, citizen.fin)
    _not_found(api.get("/accounts/12345/"))
    _not_found(api.get(f"/accounts/{account.subscriber_code}/invoices/F0000000/meters/"))
    old = account.invoices.order_by("period").first()  # 14 months ago: not one a claim may dispute
    _not_found(api.get(f"/accounts/{account.subscriber_code}/invoices/{old.number}/meters/"))
    _not_found(api.get("/claims/BA-2026-999999/"))
    _not_found(api.get("/no/such/operation/"))


def test_an_invoices_meters_show_serial_seal_and_readings(egov, citizen, account_two_meters):
    invoice = account_two_meters.invoices.order_by("-period").first()
    meters = Api(egov, citizen.fin).get(
        f"/accounts/{account_two_meters.subscriber_code}/invoices/{invoice.number}/meters/").json()
    lines = {ln.meter.serial_number: ln for ln in invoice.lines.select_related("meter")}
    assert len(meters) == 2
    for m in meters:
        line = lines[m["serial_number"]]
        assert m["seal_number"] == line.meter.seal_number
        assert m["billed_current_reading"] == line.current_reading
        assert m["billed_previous_reading"] == line.previous_reading
        assert m["last_reading"] == line.current_reading  # the latest reading is this invoice's
