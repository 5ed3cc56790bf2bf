"""The timeline is written when it is read, in the reader's language, from the entry's kind and
parameters; a claim's existing entries were converted by a migration."""

import importlib
from types import SimpleNamespace

import pytest
from django.utils import translation

from claims import services, workflow
from claims.timeline import SENTENCES
from testkit.factories import ClaimFactory

AZ_WORDS = ("müraciət", "edildi", "göndərildi", "yoxlama", "və ")


def test_every_declared_move_has_a_sentence():
    """A move added to the workflow gets its timeline sentence here, or this fails."""
    missing = sorted({m.event for m in workflow.MOVES} - set(SENTENCES))
    assert missing == []


@pytest.mark.django_db
def test_entries_read_in_the_readers_language():
    claim = ClaimFactory(in_review=True)
    services.claim_extend_deadline(claim=claim, actor=claim.operator, reason="Yerində yoxlama lazımdır.")
    events = list(claim.events.select_related("claim__branch").order_by("at", "id"))
    assert [e.move for e in events][:3] == ["register", "forward", "take"]
    with translation.override("en"):
        english = [e.text for e in events]
    with translation.override("ru"):
        russian = [e.text for e in events]
    assert english[0] == "The claim was registered."
    assert claim.branch.text("en") in english[1] and claim.branch.text("ru") in russian[1]
    assert "Обращение зарегистрировано." == russian[0]
    for text in english + russian:
        assert not any(w in text.lower() for w in AZ_WORDS), text
    # What the operator wrote stays as written, beside the sentence.
    assert events[-1].note == "Yerində yoxlama lazımdır."
    assert events[-1].params["due_on"] == claim.__class__.objects.get(pk=claim.pk).due_on.isoformat()


def test_the_migration_turns_sentences_into_parameters():
    convert = importlib.import_module("claims.migrations.0008_translated_texts")._convert
    claim = SimpleNamespace(due_on=None)
    ordered = SimpleNamespace(kind="inspection_ordered", note="27.11.2026, 09:00–13:00", claim=claim)
    convert(ordered, "in_review")
    assert (ordered.move, ordered.params, ordered.note) == (
        "order_inspection", {"visit_on": "2026-11-27", "window": "09:00–13:00"}, "")
    done = SimpleNamespace(kind="inspection_done", note="Sayğac yerində yoxlanıldı. M-1: 1490 m³; M-2: 12 m³",
                           claim=claim)
    convert(done, "inspection")
    assert done.params == {"readings": {"M-1": 1490, "M-2": 12}} and done.note == ""
    refused = SimpleNamespace(kind="closed_refused", note="Göstərici düzgündür.", claim=claim)
    convert(refused, "at_commission")
    assert refused.move == "refuse" and refused.note == "Göstərici düzgündür."
    no_grounds = SimpleNamespace(kind="closed_refused", note="Göstərici düzgündür.", claim=claim)
    convert(no_grounds, "in_review")
    assert no_grounds.move == "close_no_correction"
    review = SimpleNamespace(kind="review_started", note="Operator müraciəti araşdırmağa başladı.", claim=claim)
    convert(review, "forwarded")
    assert review.note == "" and review.move == "take"
