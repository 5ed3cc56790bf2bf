"""Every ending of a claim gets a reasoned letter (PDF) in the claim's language: the test walks
the closing moves the workflow declares, so a move added later is covered without a change
here."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import workflow
from claims.models import Claim, ClaimEvent
from commission.letters import ENDING_TEXTS, closing_moves, ending_event, ending_letter_pdf
from testkit.factories import CitizenFactory, ClaimFactory


def _text(pdf: bytes) -> str:
    # Content streams are uncompressed (commission.letters); TrueType text is hex-coded glyph
    # ids, so the test looks for what is written as plain ASCII: the claim number.
    return pdf.decode("latin-1")


def _title(pdf: bytes) -> str:
    """The document's /Title, a PDF literal string (octal escapes; UTF-16 with a BOM when it is
    not Latin-1)."""
    raw = re.search(rb"/Title \((.*?)\) ", pdf, re.S).group(1)
    data = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), raw).replace(b"\\(", b"(")
    return data[2:].decode("utf-16-be") if data.startswith(b"\xfe\xff") else data.decode("latin-1")


def _end(claim: Claim, move: workflow.Move) -> Claim:
    """Leave ``claim`` as ``move`` leaves it (as its service would: status, outcome, entry)."""
    claim.status = move.target
    claim.outcome = move.outcome or ""
    claim.outcome_reason = "Əsaslandırma mətni"
    claim.closed_at = timezone.now()
    claim.save()
    ClaimEvent.objects.create(claim=claim, at=timezone.now(), status=move.target, kind=move.event, move=move.name,
                              public=move.public)
    return claim


def test_the_declared_endings_include_every_kind_of_answer():
    names = {m.name for m in closing_moves()}
    assert {"close_no_correction", "refuse", "withdraw"} <= names
    assert all(m.target in ("closed", "withdrawn") for m in closing_moves())


@pytest.mark.django_db
@pytest.mark.parametrize("move", closing_moves(), ids=lambda m: m.name)
@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_every_closing_move_produces_a_letter(move, language):
    claim = _end(ClaimFactory(in_review=True, language=language), move)
    event = ending_event(claim)
    assert event is not None and event.move == move.name
    pdf = ending_letter_pdf(claim=claim)
    assert pdf.startswith(b"%PDF") and claim.number in _text(pdf)
    # The document's title is the move's own title in the claim's language, or the general one.
    title = ENDING_TEXTS[language].get(f"title_{move.name}", ENDING_TEXTS[language]["title"])
    assert _title(pdf) == f"{title} · {claim.number}"


@pytest.mark.django_db
def test_an_operators_no_grounds_closure_gives_the_citizen_a_letter(client):
    claim = ClaimFactory(closed_refused=True, language="en")
    client.force_login(claim.citizen)
    r = client.get(reverse("portal:claim_letter", args=[claim.number]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert claim.number.encode() in r.content
    page = client.get(reverse("portal:claim_detail", args=[claim.number])).content.decode()
    assert reverse("portal:claim_letter", args=[claim.number]) in page
    # Somebody else gets nothing.
    client.force_login(CitizenFactory())
    assert client.get(reverse("portal:claim_letter", args=[claim.number])).status_code == 404


@pytest.mark.django_db
def test_a_withdrawal_gives_a_letter_and_an_open_claim_none(client):
    claim = ClaimFactory(withdrawn=True)
    client.force_login(claim.citizen)
    assert client.get(reverse("portal:claim_letter", args=[claim.number])).status_code == 200
    open_claim = ClaimFactory(in_review=True, citizen=claim.citizen)
    assert client.get(reverse("portal:claim_letter", args=[open_claim.number])).status_code == 404
