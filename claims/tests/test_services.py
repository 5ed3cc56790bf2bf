from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from audit.models import AuditEntry
from billing.gateway import get_gateway
from claims.evidence import photo_store
from claims.models import Claim, ClaimEvent, ReasonTemplate
from claims.services import ClaimError, DuplicateOpenClaim, MeterDeclaration, claim_close_no_correction, claim_register
from claims.transitions import ClaimStatus
from claims.workflow import IllegalMove
from identity.models import Role, StaffAssignment, User
from notifications.models import Delivery


def _register(citizen, account, *, key="k1", reason_code="misread", reason_text="", invoice=None, jpeg=None,
              consent=True, language="az"):
    gw = get_gateway()
    acc = gw.account_by_code(account.subscriber_code)
    inv = invoice or gw.invoices_of_account(account.subscriber_code)[0]
    meters = []
    for line in inv.lines:
        photo = photo_store(jpeg())
        meters.append(MeterDeclaration(meter_serial=line.meter_serial, seal_number=line.seal_number,
                                       billed_reading=line.current_reading,
                                       declared_reading=line.current_reading - 200, photo_path=photo.path,
                                       photo_content_type=photo.content_type))
    return claim_register(
        citizen=citizen, account=acc, invoice=inv, reason=ReasonTemplate.objects.get(code=reason_code),
        reason_text=reason_text, meters=meters, phone="+994501234567", email="resad@example.az", comment="",
        language=language, login_method="asan_signature", submission_key=key, consent=consent,
    )


@pytest.mark.django_db
def test_register_writes_claim_evidence_timeline_audit_and_notifications(citizen, account, operator, jpeg_upload):
    claim = _register(citizen, account, jpeg=jpeg_upload)
    assert claim.number.startswith("BA-") and len(claim.number) == len("BA-2026-000001")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.FORWARDED
    assert claim.operator == operator
    assert claim.login_method == "asan_signature"
    assert claim.invoice_snapshot["number"] == claim.invoice_number
    assert list(ClaimEvent.objects.filter(claim=claim).values_list("kind", flat=True)) == ["registered", "forwarded"]
    assert AuditEntry.objects.filter(claim=claim, action="claim_registered").exists()
    assert AuditEntry.objects.filter(claim=claim, action="claim_forwarded").exists()
    events = sorted(Delivery.objects.filter(claim=claim).values_list("event", "medium"))
    assert events == [("forwarded", "email"), ("forwarded", "sms"), ("registered", "email"), ("registered", "sms")]
    ev = claim.evidence.get()
    assert ev.declared_reading == ev.billed_reading - 200
    assert default_storage.exists(ev.photo.name)


@pytest.mark.django_db
def test_registration_message_is_the_seed_text_with_the_number(citizen, account, operator, jpeg_upload):
    claim = _register(citizen, account, jpeg=jpeg_upload)
    sms = Delivery.objects.get(claim=claim, event="registered", medium="sms")
    assert ("Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
            f"Müraciət nömrəniz: {claim.number}") in sms.body
    assert sms.recipient == "+994501234567"


@pytest.mark.django_db
def test_numbers_follow_a_yearly_sequence(citizen, account, account_two_meters, operator, jpeg_upload):
    first = _register(citizen, account, key="a", jpeg=jpeg_upload)
    second = _register(citizen, account_two_meters, key="b", jpeg=jpeg_upload)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


@pytest.mark.django_db
def test_same_submission_twice_returns_the_first_claim(citizen, account, operator, jpeg_upload):
    first = _register(citizen, account, key="same", jpeg=jpeg_upload)
    again = _register(citizen, account, key="same", jpeg=jpeg_upload)
    assert again.pk == first.pk
    assert Claim.objects.count() == 1
    assert Delivery.objects.filter(event="registered").count() == 2  # one e-mail, one SMS: not four


@pytest.mark.django_db
def test_second_open_claim_for_the_same_invoice_is_refused_with_its_number(citizen, account, operator, jpeg_upload):
    first = _register(citizen, account, key="a", jpeg=jpeg_upload)
    with pytest.raises(DuplicateOpenClaim) as exc:
        _register(citizen, account, key="b", jpeg=jpeg_upload)
    assert first.number in str(exc.value)
    assert Claim.objects.count() == 1


@pytest.mark.django_db
def test_other_reason_needs_a_text_and_nothing_is_written(citizen, account, operator, jpeg_upload):
    with pytest.raises(ClaimError):
        _register(citizen, account, reason_code="other", reason_text="  ", jpeg=jpeg_upload)
    assert not Claim.objects.exists() and not Delivery.objects.exists() and not AuditEntry.objects.filter(
        action="claim_registered").exists()


@pytest.mark.django_db
def test_no_consent_no_claim(citizen, account, operator, jpeg_upload):
    with pytest.raises(ClaimError):
        _register(citizen, account, consent=False, jpeg=jpeg_upload)
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_failure_inside_registration_leaves_nothing(citizen, account, operator, jpeg_upload, monkeypatch):
    import claims.services as services

    def broken_forward(claim):
        raise RuntimeError("routing down")

    monkeypatch.setattr(services, "_forward", broken_forward)
    with pytest.raises(RuntimeError):
        _register(citizen, account, jpeg=jpeg_upload)
    assert not Claim.objects.exists()
    assert not Delivery.objects.exists()
    assert not AuditEntry.objects.filter(action="claim_registered").exists()


@pytest.mark.django_db
def test_routing_picks_the_least_loaded_operator(citizen, account, account_two_meters, branch, operator, jpeg_upload):
    second = User.objects.create_user(username="op-yas-2", password="x")
    StaffAssignment.objects.create(user=second, role=Role.OPERATOR, branch=branch)
    c1 = _register(citizen, account, key="a", jpeg=jpeg_upload)
    c2 = _register(citizen, account_two_meters, key="b", jpeg=jpeg_upload)
    assert {c1.operator_id, c2.operator_id} == {operator.pk, second.pk}


@pytest.mark.django_db
def test_operator_of_another_branch_is_never_picked(citizen, account, other_branch, jpeg_upload):
    elsewhere = User.objects.create_user(username="op-gnc-1", password="x")
    StaffAssignment.objects.create(user=elsewhere, role=Role.OPERATOR, branch=other_branch)
    claim = _register(citizen, account, jpeg=jpeg_upload)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.FORWARDED
    assert claim.operator is None  # waits in its branch's queue


@pytest.mark.django_db
def test_illegal_transition_is_refused_and_changes_nothing(citizen, account, operator, jpeg_upload):
    claim = _register(citizen, account, jpeg=jpeg_upload)
    events_before = ClaimEvent.objects.filter(claim=claim).count()
    audit_before = AuditEntry.objects.filter(claim=claim).count()
    with pytest.raises(IllegalMove):
        claim_close_no_correction(claim=claim, actor=operator, explanation="no")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.FORWARDED
    assert ClaimEvent.objects.filter(claim=claim).count() == events_before
    assert AuditEntry.objects.filter(claim=claim).count() == audit_before


@pytest.mark.django_db
def test_claim_may_be_filed_for_an_account_held_by_someone_else(other_citizen, account, operator, jpeg_upload):
    claim = _register(other_citizen, account, jpeg=jpeg_upload)
    assert claim.citizen == other_citizen and claim.holder_name == "Əliyev Rəşad Elşən oğlu"


@pytest.mark.django_db
def test_language_of_the_claim_is_used_for_its_messages(citizen, account, operator, jpeg_upload):
    claim = _register(citizen, account, jpeg=jpeg_upload, language="en")
    assert claim.language == "en"
    sms = Delivery.objects.get(claim=claim, event="registered", medium="sms")
    assert sms.language == "en" and claim.number in sms.body


@pytest.mark.django_db
def test_two_meter_account_gets_one_evidence_per_meter(citizen, account_two_meters, operator, jpeg_upload):
    claim = _register(citizen, account_two_meters, jpeg=jpeg_upload)
    assert claim.evidence.count() == 2


def test_money_in_snapshot_is_exact_decimal_text(db, citizen, account, operator, jpeg_upload):
    claim = _register(citizen, account, jpeg=jpeg_upload)
    assert Decimal(claim.invoice_snapshot["total"]) == get_gateway().invoice(claim.invoice_number).total


@pytest.mark.django_db
def test_abandoned_draft_photos_are_purged_after_a_day(jpeg_upload):
    import os
    import time

    from claims.services import drafts_purge

    old = photo_store(jpeg_upload())
    fresh = photo_store(jpeg_upload())
    # File times are set from the test's clock (the suite may run with TEST_CLOCK set).
    now = time.time()
    os.utime(default_storage.path(old.path), (now - 2 * 86400, now - 2 * 86400))
    os.utime(default_storage.path(fresh.path), (now, now))
    assert drafts_purge() == 1
    assert not default_storage.exists(old.path) and default_storage.exists(fresh.path)
