"""Retention: a database with claims of every age; the job leaves no expired personal data in
the tables or in storage, and what statistics count stays the same."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db.models import Count, Sum

from audit.models import AuditEntry
from claims import services as claims
from claims.models import Claim, ConsentRecord
from core.errors import ServiceError
from identity.models import User
from notifications.models import Delivery
from privacy import services
from privacy.models import DataKind
from testkit.factories import account_for, register

pytestmark = pytest.mark.django_db
BAKU = "+04:00"
NOW = f"2026-11-25T10:00:00{BAKU}"  # a Wednesday


def _closed(citizen, branch, operator, *, on: str, key: str) -> Claim:
    with time_machine.travel(f"{on}T10:00:00{BAKU}", tick=False):
        claim = register(citizen, account_for(citizen, branch), key=key)
        claims.claim_take(claim=claim, actor=operator)
        return claims.claim_close_no_correction(claim=claim, actor=operator, explanation="Göstərici düzgündür.")


def _dashboard() -> tuple:
    by = Claim.objects.values("status", "outcome", "branch_id").annotate(n=Count("id")).order_by(
        "status", "outcome", "branch_id")
    return (list(by), Claim.objects.aggregate(s=Sum("corrected_amount"))["s"],
            Claim.objects.values("reason_id").annotate(n=Count("id")).count())


@pytest.fixture
def ages(branch, operator, citizen, other_citizen, claim_factory):
    """Claims ended 6 years, 120 days and 10 days before NOW, and one still open."""
    with time_machine.travel(f"2020-10-05T10:00:00{BAKU}", tick=True):
        decided = claim_factory(account=account_for(other_citizen, branch), refused_by_commission=True,
                                visited=True)
    return {
        "decided": decided,  # visited by an inspector (a photo) and refused with a letter, 6 years ago
        "ancient": _closed(other_citizen, branch, operator, on="2020-09-01", key="a"),
        "old": _closed(citizen, branch, operator, on="2026-07-20", key="o"),
        "recent": _closed(citizen, branch, operator, on="2026-11-16", key="r"),
        "open": _open(citizen, branch),
    }


def _open(citizen, branch) -> Claim:
    with time_machine.travel(f"2026-11-20T10:00:00{BAKU}", tick=False):
        return register(citizen, account_for(citizen, branch), key="open")


def _photos(claim: Claim) -> list[str]:
    """Every stored file of the claim: meter photos, inspection photos, decision letters."""
    return ([ev.photo.name for ev in claim.evidence.all()]
            + [v.photo.name for v in claim.inspections.exclude(photo="")]
            + [i.letter.name for i in claim.agenda_items.exclude(letter="")])


def test_the_job_leaves_no_expired_personal_data_in_tables_or_storage(ages, django_capture_on_commit_callbacks):
    files = {name: _photos(c) for name, c in ages.items()}
    assert all(default_storage.exists(f) for names in files.values() for f in names)
    assert len(files["decided"]) == 3  # a meter photo, the inspector's photo, the letter
    before = _dashboard()
    with time_machine.travel(NOW, tick=False):
        plan = services.retention_run(dry_run=True)
        assert plan[DataKind.PHOTOS] == {"claims": 3, "files": 4}
        assert plan[DataKind.ARCHIVE] == {"claims": 2, "files": 1}
        assert all(default_storage.exists(f) for names in files.values() for f in names)  # dry run: nothing
        with django_capture_on_commit_callbacks(execute=True):
            done = services.retention_run()
    assert done[DataKind.CONTACTS]["claims"] == 3 and done[DataKind.ARCHIVE]["claims"] == 2

    for name in ("decided", "ancient", "old"):
        claim = Claim.objects.get(pk=ages[name].pk)
        assert (claim.phone, claim.email, claim.comment) == ("", "", "")
        assert not any(default_storage.exists(f) for f in files[name])
        assert all(not ev.photo for ev in claim.evidence.all())
        assert not Delivery.objects.filter(claim=claim).exclude(recipient="").exists()
        assert not Delivery.objects.filter(claim=claim).exclude(body="").exists()
        assert claim.citizen_key  # the FIN's keyed hash stays: repeat appeals are recognised
    ancient = Claim.objects.get(pk=ages["ancient"].pk)
    assert (ancient.holder_name, ancient.address) == ("", "")
    assert ancient.citizen.fin is None and not ancient.citizen.first_name
    assert not ancient.events.exclude(note="").exists()
    old = Claim.objects.get(pk=ages["old"].pk)
    assert old.holder_name and old.citizen.fin  # the archive period has not ended
    for name in ("recent", "open"):  # within their periods: untouched
        claim = Claim.objects.get(pk=ages[name].pk)
        assert claim.phone and claim.email and all(default_storage.exists(f) for f in files[name])
        assert Delivery.objects.filter(claim=claim).exclude(recipient="").exists()
    assert _dashboard() == before  # the statistics count the same claims, statuses and amounts
    with time_machine.travel(NOW, tick=False):
        assert services.retention_plan() == {
            "contacts": {"claims": 0}, "photos": {"claims": 0, "files": 0}, "notifications": {"claims": 0},
            "archive": {"claims": 0, "files": 0}}
        assert services.retention_run()[DataKind.CONTACTS]["claims"] == 0  # idempotent
    runs = AuditEntry.objects.filter(action__in=["retention_run", "retention_dry_run"]).order_by("pk")
    assert [r.action for r in runs] == ["retention_dry_run", "retention_run", "retention_run"]
    assert runs[1].after["done"]["archive"]["claims"] == 2


def test_a_repeat_appeal_is_recognised_after_the_fin_is_gone(branch, operator, other_citizen,
                                                             django_capture_on_commit_callbacks):
    fin = other_citizen.fin
    for i, day in enumerate(("2019-01-10", "2019-03-10", "2019-05-10")):
        _closed(other_citizen, branch, operator, on=day, key=f"k{i}")
    with time_machine.travel("2026-01-10T10:00:00+04:00", tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        services.retention_run()
    assert User.objects.filter(fin=fin).count() == 0
    returning = User.objects.create(username="back", fin=fin)
    with time_machine.travel("2026-01-12T10:00:00+04:00", tick=False):
        claim = register(returning, account_for(returning, branch), key="again")
    earlier = Claim.objects.filter(citizen_key=claim.citizen_key).exclude(pk=claim.pk)
    assert earlier.count() == 3


def test_withdrawing_consent_withdraws_an_open_claim_and_its_data_goes_at_the_next_run(
        ages, citizen, other_citizen, django_capture_on_commit_callbacks):
    record = ConsentRecord.objects.get(claim=ages["open"])
    with pytest.raises(ServiceError):  # somebody else's consent
        services.consent_withdraw(record_id=record.pk, actor=other_citizen)
    with time_machine.travel(NOW, tick=False):
        services.consent_withdraw(record_id=record.pk, actor=citizen)
        services.consent_withdraw(record_id=record.pk, actor=citizen)  # twice: nothing more
        claim = Claim.objects.get(pk=ages["open"].pk)
        assert claim.status == "withdrawn"
        assert Delivery.objects.filter(claim=claim, event="withdrawn").count() == 2
        recent = ConsentRecord.objects.get(claim=ages["recent"])
        services.consent_withdraw(record_id=recent.pk, actor=citizen)
        photos = _photos(Claim.objects.get(pk=ages["recent"].pk))
        with django_capture_on_commit_callbacks(execute=True):
            services.retention_run()
    for pk in (ages["open"].pk, ages["recent"].pk):
        c = Claim.objects.get(pk=pk)
        assert (c.phone, c.email) == ("", "") and all(not ev.photo for ev in c.evidence.all())
    assert not any(default_storage.exists(f) for f in photos)
    assert Claim.objects.get(pk=ages["recent"].pk).outcome_reason  # the decision stays
    assert AuditEntry.objects.filter(action="consent_withdrawn").count() == 2
