"""Who may make which move from which status: tests generated from the declaration.

For every service that performs a move of ``claims.workflow.MOVES``, for every kind of person
who might try it and for a claim resting in every status (each state reached through the real
services by ``testkit.factories.ClaimFactory``), the expectation is computed from the
declaration alone: the claim's status is one of the move's ``sources`` and the person is one
of its ``parties``, read by the party's declared meaning (``PARTY_MEANING`` below, one line per
party code, independent of the rule functions). Then the real service is called:

- an allowed move succeeds and records itself: the status is the move's target, one timeline
  entry of the move's kind with the new status, the audit entry ``claim_<event>``, the
  notification rows of ``move.notify`` (e-mail and SMS) and the channel's webhook of a public
  entry;
- a refused move raises ``ServiceError`` and changes nothing: the claim's row, and the counts of
  timeline entries, audit entries, notification rows, webhook rows, visits, agenda items and
  proposals;
- the rule functions (``Move.may``) agree with the declared meaning.

Statuses: every status a claim rests in. ``registered`` is not one: registration forwards the
claim in the same transaction (``forward`` is made by the service itself, ``actor=None``), so
the only move from it is covered by the registration tests here. Services that act on a visit
(record, reschedule) or an agenda item (agenda_remove, approve, refuse) are tried on the states
whose claim has one (a claim that never had a visit or an agenda item offers nothing to call
them with).

The world is built once per module (one transaction rolled back at the end); each test runs
in a savepoint of it, and each attempt in a savepoint of its own.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse

from api.models import ApiChannel, WebhookDelivery
from audit.models import AuditEntry
from billing.models import Adjustment, Branch, TariffZone
from claims import services, workflow
from claims.models import Channel, Claim, ClaimEvent, CompetentBody, CorrectionProposal, ProposalStatus
from claims.transitions import ClaimStatus
from commission import services as commission
from commission.models import AgendaItem, Meeting
from core.errors import ServiceError
from identity.models import Role, User
from inspections import services as inspections
from inspections.models import Inspection, SealState, VisitWindow
from notifications.models import Delivery
from testkit.factories import (
    CitizenFactory,
    ClaimFactory,
    StaffFactory,
    account_for,
    latest_item,
    latest_visit,
    next_working_day,
    open_meeting,
    register,
    stored_photo,
    true_readings,
)

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
CLOCK = datetime(2026, 10, 14, 10, 0, tzinfo=BAKU)  # a Wednesday; the next day is a working day

pytestmark = pytest.mark.django_db


# --- Who is who ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What ties a kind of person to the world's claims (the world below is built to match)."""

    citizen: bool = False  # a citizen (has a FIN)
    filer: bool = False  # filed the world's claims
    branch_operator: bool = False  # an operator of the claims' branch
    claim_operator: bool = False  # the claims' operator
    manages_branch: bool = False  # manager of the claims' branch, or an administrator
    administrator: bool = False
    visit_inspector: bool = False  # the inspector the claims' visits are assigned to
    secretary: bool = False  # the commission's secretary
    commission: bool = False  # holds a commission role (member or secretary)
    present: bool = False  # present at the meeting whose agenda the claims are on
    proposer: bool = False  # proposed the claims' corrections
    nobody: bool = False  # no person: actor=None


KINDS: dict[str, Facts] = {
    "filer": Facts(citizen=True, filer=True),
    "other_citizen": Facts(citizen=True),
    "claim_operator": Facts(branch_operator=True, claim_operator=True),
    "branch_operator": Facts(branch_operator=True),
    "foreign_operator": Facts(),
    "manager": Facts(manages_branch=True),
    "foreign_manager": Facts(),
    "administrator": Facts(manages_branch=True, administrator=True),
    "visit_inspector": Facts(visit_inspector=True),
    "other_inspector": Facts(),
    "secretary": Facts(secretary=True, commission=True, present=True),
    "deciding_member": Facts(commission=True, present=True),
    "proposer_member": Facts(branch_operator=True, commission=True, present=True, proposer=True),
    "absent_member": Facts(commission=True),
    "nobody": Facts(nobody=True),
}


@dataclass(frozen=True)
class Situation:
    """What a party's meaning looks at besides the person: the claim and its context."""

    assigned: bool  # the claim has an operator
    visit: bool  # the service acts on a visit of the claim
    item: bool  # the service acts on an agenda item of the claim
    creating: bool = False  # the move brings the claim into being


# The declared meaning of each party (workflow.Party.label), written out for the facts above.
# A party added to the workflow must be described here: the KeyError says so.
PARTY_MEANING: dict[str, Callable[[Facts, Situation], bool]] = {
    "system": lambda f, s: f.nobody,
    "citizen": lambda f, s: f.citizen if s.creating else f.filer,
    "free_operator": lambda f, s: f.branch_operator and (not s.assigned or f.claim_operator),
    "unassigned_operator": lambda f, s: f.branch_operator and not s.assigned,
    "claim_operator": lambda f, s: f.claim_operator,
    "branch_manager": lambda f, s: f.manages_branch,
    "visit_inspector": lambda f, s: s.visit and (f.visit_inspector or f.administrator),
    "commission_secretary": lambda f, s: f.secretary,
    "deciding_member": lambda f, s: s.item and f.commission and f.present and not f.proposer,
}


def declared_party(move: workflow.Move, facts: Facts, situation: Situation) -> bool:
    return any(PARTY_MEANING[p.code](facts, situation) for p in move.parties)


# --- The world -------------------------------------------------------------------------------------

STATES: dict[str, dict[str, Any]] = {
    "forwarded": {},
    "in_review": {"in_review": True, "visited": True},
    "awaiting_citizen": {"awaiting_citizen": True, "visited": True},
    "inspection": {"inspection": True},
    "at_commission": {"at_commission": True, "visited": True},
    "on_agenda": {"on_agenda": True, "visited": True},
    "closed_refused": {"closed_refused": True, "visited": True},
    "refused_by_commission": {"refused_by_commission": True},
    "posting": {"posting": True},
    "closed_corrected": {"closed_corrected": True, "visited": True},
    "withdrawn": {"withdrawn": True, "withdrawn_from": "inspection"},
}


@dataclass
class World:
    users: dict[str, User | None]
    claims: dict[str, int]  # state -> claim pk
    visits: dict[str, Inspection | None]  # state -> the claim's latest visit
    items: dict[str, AgendaItem | None]  # state -> the claim's latest agenda item
    meeting: Meeting
    spare_account: Any  # the filer's account with no claim yet


def build_world() -> World:
    branch = Branch.objects.create(code="WF-A", name="Workflow filialı", region="Bakı", zone=TariffZone.BAKU_AREA)
    elsewhere = Branch.objects.create(code="WF-B", name="Başqa filial", region="Gəncə", zone=TariffZone.OTHER)
    ApiChannel.objects.create(code=Channel.EGOV, name="e-gov.az", webhook_url="http://127.0.0.1:9/hook",
                              citizen_jwt_public_key="-")
    users: dict[str, User | None] = {
        "filer": CitizenFactory(),
        "other_citizen": CitizenFactory(),
        "claim_operator": StaffFactory(operator=True, branch=branch),
        "branch_operator": StaffFactory(operator=True, branch=branch),
        "foreign_operator": StaffFactory(operator=True, branch=elsewhere),
        "manager": StaffFactory(manager=True, branch=branch),
        "foreign_manager": StaffFactory(manager=True, branch=elsewhere),
        "administrator": StaffFactory(administrator=True),
        "visit_inspector": StaffFactory(inspector=True, branch=branch),
        "other_inspector": StaffFactory(inspector=True, branch=branch),
        "secretary": StaffFactory(secretary=True),
        "deciding_member": StaffFactory(member=True),
        "proposer_member": StaffFactory(operator=True, branch=branch, extra_roles=[Role.COMMISSION_MEMBER]),
        "absent_member": StaffFactory(member=True),
        "nobody": None,
    }
    meeting = open_meeting(secretary=users["secretary"],
                           members=[users["secretary"], users["deciding_member"], users["proposer_member"]])
    claims = {}
    for state, traits in STATES.items():
        claim = ClaimFactory(citizen=users["filer"], branch=branch, channel=Channel.EGOV,
                             operator=users["claim_operator"], manager=users["manager"],
                             inspector=users["visit_inspector"], secretary=users["secretary"],
                             member=users["deciding_member"], proposer=users["proposer_member"], meeting=meeting,
                             **traits)
        claims[state] = claim.pk
    # Each test's writes are rolled back: the rows, and so these instances, stay as built.
    visits = {state: latest_visit(Claim.objects.get(pk=pk)) for state, pk in claims.items()}
    items = {state: latest_item(Claim.objects.get(pk=pk)) for state, pk in claims.items()}
    return World(users=users, claims=claims, visits=visits, items=items, meeting=meeting,
                 spare_account=account_for(users["filer"], branch))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("workflow-world")
    with (time_machine.travel(CLOCK, tick=True), override_settings(MEDIA_ROOT=media),
          django_db_blocker.unblock(), transaction.atomic()):
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _clock():
    """Every test on the world's day, whatever clock the suite runs on."""
    with time_machine.travel(CLOCK, tick=True):
        yield


def test_the_world_rests_in_every_status_but_registered(world):
    reached = set(Claim.objects.filter(pk__in=world.claims.values()).values_list("status", flat=True))
    assert reached == set(ClaimStatus.values) - {ClaimStatus.REGISTERED}
    assert {s: Claim.objects.get(pk=pk).status for s, pk in world.claims.items()} == {
        "forwarded": "forwarded", "in_review": "in_review", "awaiting_citizen": "awaiting_citizen",
        "inspection": "inspection", "at_commission": "at_commission", "on_agenda": "at_commission",
        "closed_refused": "closed", "refused_by_commission": "closed", "posting": "posting",
        "closed_corrected": "closed",
        "withdrawn": "withdrawn",
    }


# --- The services, and what each needs --------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    world: World
    claim: Claim
    actor: User | None
    visit: Inspection | None
    item: AgendaItem | None


@dataclass(frozen=True)
class Service:
    name: str
    moves: tuple[workflow.Move, ...]  # the moves it makes (the one whose sources hold the status)
    call: Callable[[Attempt], Any]
    acts_on: str = "claim"  # "visit", "item": what it is called with besides the actor


def _record(a: Attempt) -> Any:
    path, content_type = stored_photo()
    return inspections.inspection_record_result(
        inspection=a.visit, actor=a.actor, readings=true_readings(a.claim), seal_state=SealState.INTACT,
        note="Plomb salamatdır.", photo_path=path, photo_content_type=content_type)


def _reschedule(a: Attempt) -> Any:
    assert a.visit is not None
    return inspections.inspection_no_access(
        inspection=a.visit, actor=a.actor, new_visit_on=next_working_day(1, a.visit.visit_on),
        new_window=VisitWindow.AFTERNOON, note="Qapını açan olmadı.")


SERVICES: tuple[Service, ...] = (
    Service("forward", (workflow.FORWARD,), lambda a: services._forward(a.claim)),
    Service("claim_take", (workflow.TAKE, workflow.PICK_UP),
            lambda a: services.claim_take(claim=a.claim, actor=a.actor)),
    Service("claim_reassign", (workflow.REASSIGN,), lambda a: services.claim_reassign(
        claim=a.claim, actor=a.actor, operator=a.world.users["branch_operator"])),
    Service("claim_extend_deadline", (workflow.EXTEND,), lambda a: services.claim_extend_deadline(
        claim=a.claim, actor=a.actor, reason="Yerində yoxlama tələb olunur.")),
    Service("claim_request_info", (workflow.REQUEST_INFO,), lambda a: services.claim_request_info(
        claim=a.claim, actor=a.actor, question="Sayğacın şəklini göndərin.")),
    Service("claim_answer_info", (workflow.ANSWER_INFO,), lambda a: services.claim_answer_info(
        claim=a.claim, actor=a.actor, text="Şəkil əlavə edildi.")),
    Service("inspection_order", (workflow.ORDER_INSPECTION,), lambda a: inspections.inspection_order(
        claim=a.claim, actor=a.actor, inspector=a.world.users["visit_inspector"], visit_on=next_working_day(),
        window=VisitWindow.MORNING)),
    Service("inspection_record_result", (workflow.RECORD_INSPECTION,), _record, acts_on="visit"),
    Service("inspection_no_access", (workflow.RESCHEDULE_INSPECTION,), _reschedule, acts_on="visit"),
    Service("inspection_cancel", (workflow.CANCEL_INSPECTION,), lambda a: inspections.inspection_cancel(
        claim=a.claim, actor=a.actor, reason="Vətəndaş şəkli göndərdi.")),
    Service("claim_propose_correction", (workflow.PROPOSE_CORRECTION,), lambda a: services.claim_propose_correction(
        claim=a.claim, actor=a.actor, readings=true_readings(a.claim), note="Göstərici səhv oxunub.")),
    Service("claim_close_no_correction", (workflow.CLOSE_NO_CORRECTION,),
            lambda a: services.claim_close_no_correction(claim=a.claim, actor=a.actor, explanation="Əsas yoxdur.")),
    Service("agenda_add", (workflow.AGENDA_ADD,), lambda a: commission.agenda_add(
        meeting=a.world.meeting, actor=a.actor, claim=a.claim)),
    Service("agenda_remove", (workflow.AGENDA_REMOVE,), lambda a: commission.agenda_remove(
        item=a.item, actor=a.actor), acts_on="item"),
    Service("commission_return", (workflow.RETURN_FROM_COMMISSION,), lambda a: commission.commission_return(
        claim=a.claim, actor=a.actor, reason="Yeni yoxlama lazımdır.")),
    Service("claim_return_from_commission", (workflow.RETURN_FROM_COMMISSION,),
            lambda a: services.claim_return_from_commission(claim=a.claim, actor=a.actor,
                                                            reason="Yeni yoxlama lazımdır.")),
    Service("decision_approve", (workflow.APPROVE,), lambda a: commission.decision_approve(
        item=a.item, actor=a.actor), acts_on="item"),
    Service("decision_refuse", (workflow.REFUSE,), lambda a: commission.decision_refuse(
        item=a.item, actor=a.actor, reason="Əsas yoxdur."), acts_on="item"),
    Service("claim_withdraw", (workflow.WITHDRAW,), lambda a: services.claim_withdraw(claim=a.claim, actor=a.actor)),
    Service("claim_confirm_posting", (workflow.CONFIRM_POSTING,), lambda a: services.claim_confirm_posting(
        claim=a.claim, actor=a.actor, new_balance=None)),
    Service("claim_forward_out", (workflow.FORWARD_OUT,), lambda a: services.claim_forward_out(
        claim=a.claim, actor=a.actor, note="Su təchizatı ilə bağlı deyil.",
        body=CompetentBody.objects.create(name="Azəristiliktəchizat ASC", address="Bakı", email="info@ait.az"))),
    Service("claim_leave_unconsidered", (workflow.LEAVE_UNCONSIDERED,), lambda a: services.claim_leave_unconsidered(
        claim=a.claim, actor=a.actor, reason="Eyni məsələ üzrə üç cavab verilib.", nothing_new=True)),
    Service("claim_info_remind", (workflow.REMIND_INFO,), lambda a: services.claim_info_remind(
        claim=a.claim, actor=a.actor)),
    Service("claim_info_expire", (workflow.EXPIRE_INFO,), lambda a: services.claim_info_expire(
        claim=a.claim, actor=a.actor)),
)
# The services that take no person: FORWARD is made by registration itself (actor=None); the
# daily job reminds citizens of information requests and ends the unanswered ones; billing's
# confirmation of a posting closes a claim whose correction the commission approved.
SYSTEM_ONLY = {"forward", "claim_info_remind", "claim_info_expire", "claim_confirm_posting"}

# Refusals the declaration does not express: a domain rule of the service refuses a move that
# its status and party allow. Each is named here with the rule; any other such refusal fails.
DOMAIN_REFUSALS = {
    ("agenda_add", "on_agenda"): "a claim is on at most one undecided agenda item",
    ("claim_info_expire", "awaiting_citizen"): "the date the citizen was asked to answer by has not passed",
    # art. 8.1.4: only after three reasoned answers on the same invoice within a year
    ("claim_leave_unconsidered", "forwarded"): "the claim is no repeat appeal",
    ("claim_leave_unconsidered", "in_review"): "the claim is no repeat appeal",
}

# Declared refused, yet the service returns without a refusal and changes nothing: an explicit,
# documented no-op. Any other such case fails.
NO_OPS = {
    ("claim_take", "claim_operator"): "taking a claim one already holds changes nothing (claims.services.claim_take)",
}

# Known product bugs: the generated expectation is right and the product is not. Strict
# xfail: when a bug is fixed, its case passes and the mark must go.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def test_every_move_of_the_declaration_is_tried_through_a_service():
    tried = {m.name for s in SERVICES for m in s.moves} | {workflow.REGISTER.name}
    assert tried == {m.name for m in workflow.MOVES}
    for service in SERVICES:  # a service makes at most one move from any status
        for a in service.moves:
            for b in service.moves:
                assert a is b or not (a.sources & b.sources), service.name


# --- Checking one attempt ----------------------------------------------------------------------------

TALLIED = {"claims": Claim, "timeline": ClaimEvent, "audit": AuditEntry, "notifications": Delivery,
           "webhooks": WebhookDelivery, "adjustments": Adjustment}


def tallies() -> dict[str, tuple[int, int]]:
    """(rows, highest id) of the claims and of each append-only table, in one query."""
    tables = [connection.ops.quote_name(m._meta.db_table) for m in TALLIED.values()]
    # The table names come from the models, not from input.
    parts = [f"(SELECT COUNT(*) FROM {t}), (SELECT COALESCE(MAX(id), 0) FROM {t})" for t in tables]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return {name: (row[2 * i], row[2 * i + 1]) for i, name in enumerate(TALLIED)}


def snapshot(claim_pk: int) -> dict[str, Any]:
    """What a move may change: the claim's row, its visits, agenda items and proposals, and the
    rows (and highest ids) of claims, timeline, audit, notification, webhook and billing tables."""
    c = Claim.objects.get(pk=claim_pk)
    return {
        "claim": (c.status, c.outcome, c.operator_id, c.due_on, c.paused_on, c.working_days, c.closed_at,
                  c.corrected_amount, c.outcome_reason),
        "tallies": tallies(),
        "visits": sorted(Inspection.objects.filter(claim_id=claim_pk).values_list("id", "status")),
        "agenda": sorted(AgendaItem.objects.filter(claim_id=claim_pk).values_list("id", "decision")),
        "proposals": sorted(CorrectionProposal.objects.filter(claim_id=claim_pk).values_list("id", "status")),
    }


def recorded_problems(move: workflow.Move, claim_pk: int, before: dict[str, Any], since_event: int,
                      since_audit: int, since_delivery: int, since_webhook: int) -> list[str]:
    """What is missing from the record of an allowed move that succeeded."""
    claim = Claim.objects.get(pk=claim_pk)
    problems = []
    expected_status = move.target or before["claim"][0]
    if claim.status != expected_status:
        problems.append(f"status {claim.status}, not {expected_status}")
    if move.outcome and claim.outcome != move.outcome:
        problems.append(f"outcome {claim.outcome}, not {move.outcome}")
    events = list(ClaimEvent.objects.filter(claim=claim, pk__gt=since_event).values_list("kind", "status", "public"))
    if events != [(move.event, claim.status, move.public)]:
        problems.append(f"timeline {events}, not [({move.event}, {claim.status}, {move.public})]")
    if not AuditEntry.objects.filter(claim=claim, pk__gt=since_audit, action=f"claim_{move.event}").exists():
        problems.append(f"no audit entry claim_{move.event}")
    sent = sorted(Delivery.objects.filter(pk__gt=since_delivery).values_list("claim_id", "event", "medium"))
    wanted = sorted([(claim.pk, move.notify, "email"), (claim.pk, move.notify, "sms")]) if move.notify else []
    if sent != wanted:
        problems.append(f"notifications {sent}, not {wanted}")
    hooks = list(WebhookDelivery.objects.filter(pk__gt=since_webhook).values_list("claim_id", "kind"))
    if hooks != ([(claim.pk, move.event)] if move.public else []):
        problems.append(f"webhooks {hooks} for a {'public' if move.public else 'staff-only'} entry")
    return problems


def judge(service: Service, kind: str, state: str, world: World) -> str | None:
    """One service, one person, one claim: None when the product does what the declaration
    says, else what went wrong."""
    claim = Claim.objects.select_related("branch").get(pk=world.claims[state])
    actor = world.users[kind]
    visit, item = world.visits[state], world.items[state]
    if service.acts_on == "visit" and visit is None or service.acts_on == "item" and item is None:
        return None  # nothing to call it with: the claim never had a visit / an agenda item
    move = next((m for m in service.moves if claim.status in m.sources), service.moves[0])
    situation = Situation(assigned=claim.operator_id is not None, visit=service.acts_on == "visit",
                          item=service.acts_on == "item")
    party = declared_party(move, KINDS[kind], situation)
    expected = claim.status in move.sources and party
    context = workflow.Context(inspection=visit if service.acts_on == "visit" else None,
                               item=item if service.acts_on == "item" else None)
    if move.may(actor, claim, context) != party:
        return (f"{move.name}: the rule says {not party}, the declared meaning of "
                f"{[p.code for p in move.parties]} says {party}")
    if kind != "nobody" and service.name in SYSTEM_ONLY:
        # No service lets a person make it: the declaration refuses every person (checked above).
        return None if not party else f"{move.name}: a person is a party of a move only the system makes"

    before = snapshot(claim.pk)
    t = before["tallies"]
    marks = (t["timeline"][1], t["audit"][1], t["notifications"][1], t["webhooks"][1])
    sid = transaction.savepoint()
    try:
        service.call(Attempt(world=world, claim=claim, actor=actor, visit=visit, item=item))
    except ServiceError as exc:
        error: ServiceError | None = exc
    except Exception as exc:  # noqa: BLE001 - anything but a ServiceError is a finding
        transaction.savepoint_rollback(sid)
        return f"{move.name} from {claim.status}: raised {type(exc).__name__}: {exc} (not a ServiceError)"
    else:
        error = None
    try:
        if error is None:
            if not expected:
                changes = _changes(before, snapshot(claim.pk))
                if not changes and (service.name, kind) in NO_OPS:
                    return None
                return f"{move.name} from {claim.status}: declared refused, but the service did it ({changes})"
            problems = recorded_problems(move, claim.pk, before, *marks)
            return f"{move.name} from {claim.status}: " + "; ".join(problems) if problems else None
        changes = _changes(before, snapshot(claim.pk))
        if changes:
            return f"{move.name} from {claim.status}: refused ({error}) but changed {changes}"
        if expected:
            domain = not error.forbidden and not isinstance(error, workflow.IllegalMove) \
                and error.code != workflow.IllegalMove.code
            if domain and (service.name, state) in DOMAIN_REFUSALS:
                return None
            return f"{move.name} from {claim.status}: declared allowed, refused: {error.code}: {error}"
        return None
    finally:
        transaction.savepoint_rollback(sid)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def _cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        for kind in KINDS:
            marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(service.name, kind)])]
                     if (service.name, kind) in KNOWN_BUGS else [])
            cases.append(pytest.param(service, kind, id=f"{service.name}-{kind}", marks=marks))
    return cases


@pytest.mark.parametrize(("service", "kind"), _cases())
def test_a_move_is_made_by_its_parties_from_its_sources_and_by_nobody_else(world, service, kind):
    problems = [f"[{state}] {p}" for state in STATES if (p := judge(service, kind, state, world))]
    assert not problems, "\n".join(problems)


# --- Registration: the move that brings a claim into being ------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_only_a_citizen_files_a_claim(world, kind):
    actor = world.users[kind]
    facts = KINDS[kind]
    expected = declared_party(workflow.REGISTER, facts, Situation(assigned=False, visit=False, item=False,
                                                                 creating=True))
    before = (Claim.objects.count(), ClaimEvent.objects.count(), AuditEntry.objects.count(),
              Delivery.objects.count(), WebhookDelivery.objects.count())
    try:
        claim = register(actor, world.spare_account, key=f"rules-{kind}", channel=Channel.EGOV)  # type: ignore[arg-type]
    except ServiceError:
        claim = None
    after = (Claim.objects.count(), ClaimEvent.objects.count(), AuditEntry.objects.count(),
             Delivery.objects.count(), WebhookDelivery.objects.count())
    if not expected:
        assert claim is None, f"{kind} filed claim {claim}"
        assert after == before
        return
    assert claim is not None and claim.citizen_id == actor.pk
    assert claim.status == ClaimStatus.FORWARDED
    assert list(claim.events.values_list("kind", flat=True)) == ["registered", "forwarded"]
    assert sorted(claim.deliveries.values_list("event", "medium")) == [
        ("forwarded", "email"), ("forwarded", "sms"), ("registered", "email"), ("registered", "sms")]


# --- The operator never closes a claim the commission holds ----------------------------------------

@pytest.fixture
def claim_at_commission(claim_factory, operator):
    return claim_factory(at_commission=True, operator=operator)


def _untouched(claim: Claim) -> None:
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.AT_COMMISSION and claim.outcome == ""
    assert claim.proposals.get().status == ProposalStatus.PENDING
    assert not Delivery.objects.filter(claim=claim, event="closed_refused").exists()
    assert not ClaimEvent.objects.filter(claim=claim, kind="closed_refused").exists()


def test_the_operator_cannot_close_a_claim_at_the_commission(claim_at_commission, operator):
    claim = claim_at_commission
    before = snapshot(claim.pk)
    with pytest.raises(workflow.IllegalMove):
        services.claim_close_no_correction(claim=claim, actor=operator, explanation="Düzəliş tələb olunmur.")
    assert snapshot(claim.pk) == before
    _untouched(claim)


def test_the_operator_cannot_close_a_claim_at_the_commission_over_http(client, claim_at_commission, operator):
    claim = claim_at_commission
    before = snapshot(claim.pk)
    client.force_login(operator)
    page = client.get(reverse("backoffice:claim", args=[claim.number])).content.decode()
    assert 'id="id_close_text"' not in page  # not offered...
    r = client.post(reverse("backoffice:claim_action", args=[claim.number, "close"]),
                    {"text": "Düzəliş tələb olunmur."})
    assert r.status_code == 302  # ...and refused when posted all the same, with a message
    shown = client.get(r.url).content.decode()
    assert str(workflow.IllegalMove(claim, workflow.CLOSE_NO_CORRECTION)) in shown
    after = snapshot(claim.pk)
    viewed = after["tallies"].pop("audit")[0] - before["tallies"].pop("audit")[0]
    assert after == before
    # The only new audit entries are the page views (claim_viewed), none of a change.
    assert set(AuditEntry.objects.filter(claim=claim).order_by("-id").values_list("action", flat=True)
               [:viewed]) == {"claim_viewed"}
    _untouched(claim)
