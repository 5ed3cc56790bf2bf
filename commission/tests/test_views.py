from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Adjustment
from claims.transitions import ClaimStatus
from commission.models import AgendaItem, Meeting
from commission.services import decision_approve
from conftest import make_account
from identity.models import Role
from testkit.factories import deliver_posting

from .conftest import bring_to_commission, make_staff

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


# --- access -----------------------------------------------------------------------------------

def test_an_operator_gets_403_on_the_commission_pages(client, operator, item):
    client.force_login(operator)
    assert client.get(reverse("commission:agenda")).status_code == 403
    assert client.get(reverse("commission:meeting", args=[item.meeting_id])).status_code == 403
    response = client.post(reverse("commission:approve", args=[item.pk]), {f"item-{item.pk}-approve-amount": "-200"})
    assert response.status_code == 403
    assert not Adjustment.objects.exists()


@pytest.mark.parametrize("who", ["citizen", "anonymous"])
def test_a_citizen_or_anonymous_user_goes_to_the_staff_login(client, citizen, item, who):
    if who == "citizen":
        client.force_login(citizen)
    for url in (reverse("commission:agenda"), reverse("commission:meeting", args=[item.meeting_id]),
                reverse("commission:letter", args=[item.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("backoffice:login"))


def test_only_the_secretary_opens_meetings_and_fills_the_agenda(client, member, claim, meeting):
    client.force_login(member)
    response = client.post(reverse("commission:meeting_open"), {
        "held_on": timezone.localdate().isoformat(), "protocol_number": "K-9", "members": [member.pk]})
    assert response.status_code == 403
    response = client.post(reverse("commission:agenda_add", args=[claim.number]),
                           {f"add-{claim.pk}-meeting": meeting.pk})
    assert response.status_code == 403
    assert not Meeting.objects.filter(protocol_number="K-9").exists()
    assert not AgendaItem.objects.exists()


def test_the_letter_is_served_to_staff_who_see_the_claim_and_404_to_others(client, item, member, operator,
                                                                         other_branch):
    decision_approve(item=item, actor=member)
    url = reverse("commission:letter", args=[item.pk])

    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")

    client.force_login(operator)  # the claim's branch
    assert client.get(url).status_code == 200

    elsewhere = make_staff("op-gnc-1", Role.OPERATOR, branch=other_branch)
    client.force_login(elsewhere)
    assert client.get(url).status_code == 404


def test_the_letter_of_an_undecided_item_is_404(client, item, member):
    client.force_login(member)
    assert client.get(reverse("commission:letter", args=[item.pk])).status_code == 404


# --- agenda page ------------------------------------------------------------------------------

def test_the_agenda_lists_claims_sent_to_the_commission_with_their_proposal(client, secretary, claim, meeting):
    client.force_login(secretary)
    response = client.get(reverse("commission:agenda"))
    html = _html(response)
    assert response.status_code == 200
    assert claim.number in html
    assert "Nəzarətçi göstəricini səhv oxuyub" in html
    assert "Leyla Məmmədova" in html  # who proposed
    assert "-200,00" in html or "-200.00" in html
    assert reverse("commission:agenda_add", args=[claim.number]) in html
    assert "K-2026/07" in html


def test_the_secretary_opens_a_meeting_and_puts_a_claim_on_its_agenda(client, secretary, member, claim):
    client.force_login(secretary)
    response = client.post(reverse("commission:meeting_open"), {
        "held_on": timezone.localdate().isoformat(), "protocol_number": "K-10", "members": [secretary.pk, member.pk]})
    meeting = Meeting.objects.get(protocol_number="K-10")
    assert response.status_code == 302
    assert set(meeting.members.all()) == {secretary, member}

    response = client.post(reverse("commission:agenda_add", args=[claim.number]),
                           {f"add-{claim.pk}-meeting": meeting.pk}, follow=True)
    assert AgendaItem.objects.get(claim=claim).meeting == meeting
    assert "gündəliyinə salındı" in _html(response)
    assert claim.number not in _html(response).split('id="awaiting"')[1].split("Açıq iclaslar")[0]


def test_a_duplicate_protocol_number_is_shown_next_to_its_field(client, secretary, member, meeting):
    client.force_login(secretary)
    response = client.post(reverse("commission:meeting_open"), {
        "held_on": timezone.localdate().isoformat(), "protocol_number": "K-2026/07", "members": [member.pk]})
    html = _html(response)
    assert response.status_code == 400
    assert 'class="error-summary"' in html
    assert 'id="id_protocol_number_error"' in html
    assert "K-2026/07 nömrəli protokol artıq var" in html
    assert Meeting.objects.count() == 1


def test_opening_a_meeting_without_members_says_so(client, secretary):
    client.force_login(secretary)
    response = client.post(reverse("commission:meeting_open"), {
        "held_on": timezone.localdate().isoformat(), "protocol_number": "K-11"})
    assert response.status_code == 400
    assert "İclasda iştirak edən üzvləri seçin." in _html(response)
    assert 'href="#id_members_0"' in _html(response)


def test_the_agenda_page_makes_the_same_queries_for_one_claim_or_many(client, secretary, member, citizen, branch,
                                                                     operator, jpeg_upload, meeting,
                                                                     django_assert_max_num_queries):
    client.force_login(secretary)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("commission:agenda")).status_code == 200
        return len(ctx.captured_queries)

    accounts = [make_account(code=f"10203041{i:02d}", branch=branch, holder_fin=citizen.fin,
                             holder_name="Əliyev Rəşad Elşən oğlu") for i in range(4)]
    bring_to_commission(citizen, accounts[0], operator, jpeg_upload, key="q0")
    one = count()
    for i, acc in enumerate(accounts[1:], start=1):
        bring_to_commission(citizen, acc, operator, jpeg_upload, key=f"q{i}")
    assert count() == one
    with django_assert_max_num_queries(one):
        client.get(reverse("commission:agenda"))


# --- meeting page -----------------------------------------------------------------------------

def test_the_meeting_page_shows_the_proposal_and_the_decision_forms(client, member, item):
    client.force_login(member)
    html = _html(client.get(reverse("commission:meeting", args=[item.meeting_id])))
    claim = item.claim
    assert reverse("backoffice:claim", args=[claim.number]) in html
    line = claim.invoice_snapshot["lines"][0]
    assert str(line["current_reading"]) in html and str(line["current_reading"] - 200) in html
    assert f'name="item-{item.pk}-approve-amount"' in html
    assert 'value="-200.00"' in html  # prefilled with the difference
    assert f'name="item-{item.pk}-refuse-reason"' in html


def test_the_meeting_page_makes_the_same_queries_for_one_item_or_many(client, member, secretary, citizen, branch,
                                                                      operator, jpeg_upload, item):
    from commission.services import agenda_add

    client.force_login(member)
    url = reverse("commission:meeting", args=[item.meeting_id])
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    one = len(ctx.captured_queries)
    for i in range(3):
        acc = make_account(code=f"10203042{i:02d}", branch=branch, holder_fin=citizen.fin, holder_name="Əliyev R.")
        agenda_add(meeting=item.meeting, actor=secretary,
                   claim=bring_to_commission(citizen, acc, operator, jpeg_upload, key=f"m{i}"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    assert len(ctx.captured_queries) == one


def test_the_proposer_sees_no_decision_forms(client, operator, secretary, citizen, account, jpeg_upload):
    from commission.services import agenda_add, meeting_open
    from identity.models import StaffAssignment

    StaffAssignment.objects.create(user=operator, role=Role.COMMISSION_MEMBER, branch=None)
    claim = bring_to_commission(citizen, account, operator, jpeg_upload)
    meeting = meeting_open(actor=secretary, held_on=timezone.localdate(), protocol_number="K-4E",
                           members=[secretary, operator])
    item = agenda_add(meeting=meeting, actor=secretary, claim=claim)
    client.force_login(operator)
    html = _html(client.get(reverse("commission:meeting", args=[meeting.pk])))
    assert "dörd göz" in html
    assert f'name="item-{item.pk}-approve-amount"' not in html
    response = client.post(reverse("commission:approve", args=[item.pk]), {f"item-{item.pk}-approve-amount": "-200.00"})
    assert response.status_code == 400
    assert "dörd göz" in _html(response)
    assert not Adjustment.objects.exists()


def test_approving_on_the_page_links_the_letter_and_the_posting_closes_the_claim(client, member, item):
    client.force_login(member)
    response = client.post(reverse("commission:approve", args=[item.pk]),
                           {f"item-{item.pk}-approve-amount": "-200.00", f"item-{item.pk}-approve-note": ""},
                           follow=True)
    html = _html(response)
    item.refresh_from_db()
    assert item.decision == "approved"
    assert item.claim.status == ClaimStatus.POSTING  # until billing confirms the posting
    assert reverse("commission:letter", args=[item.pk]) in html
    deliver_posting(item)
    item.claim.refresh_from_db()
    assert item.claim.status == ClaimStatus.CLOSED
    assert Adjustment.objects.get().amount == Decimal("-200.00")


def test_a_changed_amount_without_a_note_is_shown_next_to_the_note(client, member, item):
    client.force_login(member)
    response = client.post(reverse("commission:approve", args=[item.pk]),
                           {f"item-{item.pk}-approve-amount": "-150.00", f"item-{item.pk}-approve-note": ""})
    html = _html(response)
    assert response.status_code == 400
    assert f'id="id_item-{item.pk}-approve-note_error"' in html
    assert 'class="error-summary"' in html
    assert 'value="-150.00"' in html  # what the member typed is kept
    item.refresh_from_db()
    assert item.decision == ""
    assert not Adjustment.objects.exists()


def test_refusing_on_the_page_needs_a_reason(client, member, item):
    client.force_login(member)
    url = reverse("commission:refuse", args=[item.pk])
    response = client.post(url, {f"item-{item.pk}-refuse-reason": ""})
    assert response.status_code == 400
    assert f'id="id_item-{item.pk}-refuse-reason_error"' in _html(response)
    response = client.post(url, {f"item-{item.pk}-refuse-reason": "Göstərici düzgün oxunub."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == "refused" and item.claim.outcome_reason == "Göstərici düzgün oxunub."


def test_a_member_not_present_sees_why_he_cannot_decide(client, member_absent, item):
    client.force_login(member_absent)
    html = _html(client.get(reverse("commission:meeting", args=[item.meeting_id])))
    assert "iştirak edənlər arasında deyilsiniz" in html
    assert f'name="item-{item.pk}-approve-amount"' not in html
