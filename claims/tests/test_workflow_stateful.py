"""The workflow under random moves by random people (hypothesis.stateful).

A state machine files a few claims and then, step after step, has somebody try one of the
services that move a claim (take, reassign, request and answer information, order, record,
reschedule and cancel a visit, propose a correction, put it on and off the agenda, return it
from the commission, approve, refuse, close, extend, withdraw), or lets a few days pass. The
service is drawn among those whose move the claim's status allows or among all of them; the
person is one of the move's parties or anybody of the cast. After every step:

- a refused action (ServiceError) changed nothing: claims, timeline, audit, notifications,
  webhooks, visits, agenda items, proposals, information requests, billing adjustments;
- an action that went through made a move its status allows, and recorded it: the move's
  status, a timeline entry with that status, the audit entry, the declared notifications
  (e-mail and SMS of ``move.notify``) and the webhook of a public entry; no other claim moved;
- no claim closes from at_commission without a decision of the commission (an agenda item
  with a decision that matches the outcome), and no decision is taken by the person who
  proposed the correction, or by somebody absent from the meeting;
- every claim's timeline ends at its status; due dates hold: a running claim's ``due_on`` is
  the one recomputed from its history (``claims.services.claim_due_on``), the effective due
  date is never earlier than ``due_on``, and a claim waiting for the citizen that still had
  time left when it paused is never overdue.

Each example runs in a savepoint rolled back at its end, on a clock frozen (and ticking) at
a fixed Monday; days pass by a rule and cross the November holidays. Across the run every
status of the life cycle must be reached, and the commission must have decided both ways.

Nobody (actor=None) is left out of the cast here: the generated rules tests try it on every
service (and name the services that do not refuse it cleanly).
"""

from __future__ import annotations

import itertools
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from api.models import ApiChannel, WebhookDelivery
from audit.models import AuditEntry
from billing.models import Adjustment
from claims import services, workflow
from claims.models import Channel, Claim, ClaimEvent, CompetentBody, CorrectionProposal, InfoRequest
from claims.transitions import ClaimOutcome, ClaimStatus
from commission import services as commission
from commission.models import AgendaItem, DecisionKind
from core.errors import ServiceError
from identity.models import Role, User
from inspections import services as inspections
from inspections.models import Inspection, SealState, VisitWindow
from notifications.models import Delivery
from testkit.factories import (
    account_for,
    latest_item,
    next_working_day,
    open_meeting,
    register,
    stored_photo,
    true_readings,
)

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
START = datetime(2026, 11, 2, 9, 0, tzinfo=BAKU)  # a Monday; 8-10 November are public holidays

PARTY = "party"  # one of the move's parties, found for the claim at hand
PEOPLE = ("citizen", "other_citizen", "operator", "second_operator", "foreign_operator", "manager",
          "foreign_manager", "administrator", "inspector", "second_inspector", "secretary", "member",
          "absent_member", "proposer_member")
PROPOSER = "proposer"  # whoever proposed the claim's latest correction (the four-eyes rule's subject)
# Mostly one of the move's parties; else anybody, the proposer among them more often.
WHO = st.sampled_from([PARTY] * 2 * len(PEOPLE) + list(PEOPLE) + [PROPOSER] * 3)
# Who tries a decision: its party, the proposer (four eyes), somebody absent, and others.
DECIDER = st.sampled_from([PARTY] * 4 + [PROPOSER] * 2 + ["proposer_member", "absent_member", "secretary", "operator",
                                                         "administrator", "manager"])
FILINGS = 3  # registrations an example tries (one may be refused: the invoice has an open claim)
ACTS_A_DAY = 4  # the days pass after this many actions at least

REACHED: set[str] = set()  # the statuses the run's timelines reached
SEEN: Counter[str] = Counter()  # what happened, for the final check and hypothesis' statistics


@dataclass
class Cast:
    people: dict[str, User]
    accounts: list[Any]


@pytest.fixture
def cast(branch, other_branch, citizen, other_citizen, staff_factory):
    ApiChannel.objects.create(code=Channel.EGOV, name="e-gov.az", webhook_url="http://127.0.0.1:9/hook",
                              citizen_jwt_public_key="-")
    people = {
        "citizen": citizen,
        "other_citizen": other_citizen,
        "operator": staff_factory(operator=True, branch=branch),
        "second_operator": staff_factory(operator=True, branch=branch),
        "foreign_operator": staff_factory(operator=True, branch=other_branch),
        "manager": staff_factory(manager=True, branch=branch),
        "foreign_manager": staff_factory(manager=True, branch=other_branch),
        "administrator": staff_factory(administrator=True),
        "inspector": staff_factory(inspector=True, branch=branch),
        "second_inspector": staff_factory(inspector=True, branch=branch),
        "secretary": staff_factory(secretary=True),
        "member": staff_factory(member=True),
        "absent_member": staff_factory(member=True),
        # An operator of the branch who also sits on the commission: he may propose a
        # correction (when the claim is his) and never decide on it.
        "proposer_member": staff_factory(operator=True, branch=branch, extra_roles=[Role.COMMISSION_MEMBER]),
    }
    with time_machine.travel(START):
        accounts = [account_for(citizen, branch), account_for(citizen, branch), account_for(other_citizen, branch)]
    return Cast(people=people, accounts=accounts)


# --- What an action is -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    service: str
    moves: tuple[workflow.Move, ...]
    acts_on: str = "claim"  # "visit", "item": the service is called with the claim's visit / agenda item


ACTIONS = (
    Action("claim_take", (workflow.TAKE, workflow.PICK_UP)),
    Action("claim_reassign", (workflow.REASSIGN,)),
    Action("claim_extend_deadline", (workflow.EXTEND,)),
    Action("claim_request_info", (workflow.REQUEST_INFO,)),
    Action("claim_answer_info", (workflow.ANSWER_INFO,)),
    Action("inspection_order", (workflow.ORDER_INSPECTION,)),
    Action("inspection_record_result", (workflow.RECORD_INSPECTION,), acts_on="visit"),
    Action("inspection_no_access", (workflow.RESCHEDULE_INSPECTION,), acts_on="visit"),
    Action("inspection_cancel", (workflow.CANCEL_INSPECTION,)),
    Action("claim_propose_correction", (workflow.PROPOSE_CORRECTION,)),
    Action("claim_close_no_correction", (workflow.CLOSE_NO_CORRECTION,)),
    Action("agenda_add", (workflow.AGENDA_ADD,)),
    Action("agenda_remove", (workflow.AGENDA_REMOVE,), acts_on="item"),
    Action("commission_return", (workflow.RETURN_FROM_COMMISSION,)),
    Action("claim_return_from_commission", (workflow.RETURN_FROM_COMMISSION,)),
    Action("decision_approve", (workflow.APPROVE,), acts_on="item"),
    Action("decision_refuse", (workflow.REFUSE,), acts_on="item"),
    Action("claim_withdraw", (workflow.WITHDRAW,)),
    Action("claim_forward_out", (workflow.FORWARD_OUT,)),
    Action("claim_leave_unconsidered", (workflow.LEAVE_UNCONSIDERED,)),
)


def test_every_move_a_person_makes_is_among_the_actions():
    acted = {m.name for a in ACTIONS for m in a.moves} | {workflow.REGISTER.name}
    assert acted == {m.name for m in workflow.MOVES if workflow.SYSTEM not in m.parties}


TALLIED = {"timeline": ClaimEvent, "audit": AuditEntry, "notifications": Delivery, "webhooks": WebhookDelivery,
           "adjustments": Adjustment}


def tallies() -> dict[str, tuple[int, int]]:
    """(rows, highest id) of each append-only table, in one query."""
    tables = [connection.ops.quote_name(m._meta.db_table) for m in TALLIED.values()]
    # The table names come from the models, not from input.
    parts = [f"(SELECT COUNT(*) FROM {t}), (SELECT COALESCE(MAX(id), 0) FROM {t})" for t in tables]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return {name: (row[2 * i], row[2 * i + 1]) for i, name in enumerate(TALLIED)}


def snapshot() -> dict[str, Any]:
    """Everything an action may change, in a few queries."""
    return {
        "claims": {c["pk"]: c for c in Claim.objects.values(
            "pk", "status", "outcome", "operator_id", "due_on", "paused_on", "working_days", "closed_at",
            "corrected_amount")},
        "tallies": tallies(),
        "visits": sorted(Inspection.objects.values_list("pk", "status")),
        "agenda": sorted(AgendaItem.objects.values_list("pk", "decision")),
        "proposals": sorted(CorrectionProposal.objects.values_list("pk", "status")),
        "requests": sorted(InfoRequest.objects.values_list("pk", "answered_at")),
    }


def marks(snap: dict[str, Any]) -> tuple[int, int, int, int]:
    """The highest ids of the timeline, audit, notification and webhook rows in ``snap``."""
    t = snap["tallies"]
    return t["timeline"][1], t["audit"][1], t["notifications"][1], t["webhooks"][1]


class WorkflowMachine(RuleBasedStateMachine):
    claims = Bundle("claims")

    def __init__(self, cast: Cast):
        super().__init__()
        self.cast = cast
        self.people = cast.people
        self.keys = itertools.count()
        self.filed = 0  # registrations tried: a few claims per example
        self.registered = 0
        self.acts = 0  # actions since the days last passed
        self.held: set[tuple[Any, ...]] = set()  # claim rows whose record was checked
        self.decisions_checked: set[int] = set()
        self.last_look: Any = None
        self.savepoint = transaction.savepoint()
        self.clock = time_machine.travel(START, tick=True)
        self.traveller = self.clock.start()
        p = self.people
        self.meeting = open_meeting(secretary=p["secretary"],
                                    members=[p["secretary"], p["member"], p["proposer_member"]])

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.clock.stop()

    # --- Rules ---------------------------------------------------------------------------------------

    @precondition(lambda self: self.filed < FILINGS or not self.registered)
    @rule(target=claims, account=st.integers(0, 2), who=st.sampled_from([PARTY] * len(PEOPLE) + list(PEOPLE)))
    def file_a_claim(self, account: int, who: str) -> Any:
        self.filed += 1
        acc = self.cast.accounts[account]
        actor = (User.objects.get(fin=acc.holder_fin) if who == PARTY else self.people[who])
        before = snapshot()
        since = marks(before)
        try:
            claim = register(actor, acc, key=f"sm-{next(self.keys)}", channel=Channel.EGOV)
        except ServiceError as exc:
            self._refused(before, "register", exc)
            return multiple()
        SEEN["register"] += 1
        self.registered += 1
        assert set(snapshot()["claims"]) - set(before["claims"]) == {claim.pk}
        assert list(claim.events.values_list("kind", "status")) == [("registered", "registered"),
                                                                   ("forwarded", "forwarded")]
        assert sorted(Delivery.objects.filter(pk__gt=since[2]).values_list("claim_id", "event", "medium")) == sorted(
            (claim.pk, e, m) for e in ("registered", "forwarded") for m in ("email", "sms"))
        assert AuditEntry.objects.filter(claim=claim, action="claim_registered").exists()
        return claim.pk

    @precondition(lambda self: self.acts >= ACTS_A_DAY)
    @rule(days=st.integers(1, 6))
    def days_pass(self, days: int) -> None:
        self.acts = 0
        self.traveller.shift(timedelta(days=days))

    @rule(claim=claims, data=st.data())
    def somebody_acts(self, claim: int, data: st.DataObject) -> None:
        self.acts += 1
        c = Claim.objects.select_related("branch", "citizen", "operator").get(pk=claim)
        visit = c.inspections.select_related("inspector").order_by("-pk").first()
        item = latest_item(c)

        def callable_(a: Action) -> bool:  # there is something to call it with
            return not (a.acts_on == "visit" and visit is None or a.acts_on == "item" and item is None)

        def move_of(a: Action) -> workflow.Move:
            return next((m for m in a.moves if c.status in m.sources), a.moves[0])

        # Mostly an action that moves the claim on: a move of its status to another (or onto
        # the agenda), with one of its parties at hand. Withdrawal, which ends everything, and
        # the moves that keep the status are among all the others (so is the second way back
        # from the commission, which would double the odds of going back, and so are the
        # endings of art. 7.10 and 8.1.4, which would end most claims before they get far).
        onward = [a for a in ACTIONS if a.service not in ("claim_withdraw", "claim_return_from_commission",
                                                          "claim_forward_out", "claim_leave_unconsidered")
                  and callable_(a)
                  and c.status in move_of(a).sources
                  and (move_of(a).target is not None or move_of(a) is workflow.AGENDA_ADD)
                  and self._party(move_of(a), c, visit, item) is not None]
        pool = onward if onward and data.draw(st.integers(0, 3), label="onward?") else ACTIONS
        action = data.draw(st.sampled_from(pool), label="action")
        if not callable_(action):
            event(f"{action.service}: nothing to call it with")
            return
        move = move_of(action)
        who = data.draw(DECIDER if action.service.startswith("decision_") else WHO, label="who")
        if who == PARTY:
            actor = self._party(move, c, visit, item)
        elif who == PROPOSER:
            proposal = c.proposals.order_by("-pk").first()
            actor = proposal.proposed_by if proposal is not None else None
        else:
            actor = self.people[who]
        if actor is None:
            actor = self.people[data.draw(st.sampled_from(PEOPLE), label="anybody")]
        call = self._call(action, c, actor, visit, item, data)
        self._perform(action, c, actor, item, call)

    # --- Calling the services ------------------------------------------------------------------------

    def _party(self, move: workflow.Move, claim: Claim, visit: Inspection | None,
               item: AgendaItem | None) -> User | None:
        """Somebody the declaration names for ``move`` on this claim (None: nobody fits)."""
        p = self.people
        for party in move.parties:
            if party.code == "citizen":
                return claim.citizen
            if party.code in ("free_operator", "claim_operator") and claim.operator is not None:
                return claim.operator
            if party.code in ("free_operator", "unassigned_operator") and claim.operator is None:
                return p["operator"]
            if party.code == "branch_manager":
                return p["manager"]
            if party.code == "visit_inspector" and visit is not None:
                return visit.inspector
            if party.code == "commission_secretary":
                return p["secretary"]
            if party.code == "deciding_member" and item is not None:
                present = set(item.meeting.members.values_list("pk", flat=True))
                for name in ("member", "secretary", "proposer_member"):
                    if p[name].pk in present and p[name].pk != item.proposal.proposed_by_id:
                        return p[name]
        return None

    def _call(self, action: Action, c: Claim, actor: User, visit: Inspection | None, item: AgendaItem | None,
              data: st.DataObject) -> Any:
        p, s = self.people, action.service
        text = "Qeyd."
        if s == "claim_take":
            return lambda: services.claim_take(claim=c, actor=actor)
        if s == "claim_reassign":
            to = p[data.draw(st.sampled_from(["operator", "second_operator", "proposer_member", "foreign_operator"]),
                             label="to")]
            return lambda: services.claim_reassign(claim=c, actor=actor, operator=to)
        if s == "claim_extend_deadline":
            return lambda: services.claim_extend_deadline(claim=c, actor=actor, reason=text)
        if s == "claim_request_info":
            return lambda: services.claim_request_info(claim=c, actor=actor, question=text)
        if s == "claim_answer_info":
            return lambda: services.claim_answer_info(claim=c, actor=actor, text=text)
        if s == "inspection_order":
            inspector = p[data.draw(st.sampled_from(["inspector", "second_inspector"]), label="inspector")]
            return lambda: inspections.inspection_order(claim=c, actor=actor, inspector=inspector,
                                                        visit_on=next_working_day(), window=VisitWindow.MORNING)
        if s == "inspection_record_result":
            def record() -> Any:
                path, content_type = stored_photo()
                return inspections.inspection_record_result(
                    inspection=visit, actor=actor, readings=true_readings(c), seal_state=SealState.INTACT, note=text,
                    photo_path=path, photo_content_type=content_type)
            return record
        if s == "inspection_no_access":
            assert visit is not None
            new_day = next_working_day(1, max(visit.visit_on, timezone.localdate()))
            return lambda: inspections.inspection_no_access(inspection=visit, actor=actor, new_visit_on=new_day,
                                                            new_window=VisitWindow.AFTERNOON, note=text)
        if s == "inspection_cancel":
            return lambda: inspections.inspection_cancel(claim=c, actor=actor, reason=text)
        if s == "claim_propose_correction":
            return lambda: services.claim_propose_correction(claim=c, actor=actor, readings=true_readings(c),
                                                             note=text)
        if s == "claim_close_no_correction":
            return lambda: services.claim_close_no_correction(claim=c, actor=actor, explanation=text)
        if s == "agenda_add":
            return lambda: commission.agenda_add(meeting=self.meeting, actor=actor, claim=c)
        if s == "agenda_remove":
            return lambda: commission.agenda_remove(item=item, actor=actor)
        if s == "commission_return":
            return lambda: commission.commission_return(claim=c, actor=actor, reason=text)
        if s == "claim_return_from_commission":
            return lambda: services.claim_return_from_commission(claim=c, actor=actor, reason=text)
        if s == "decision_approve":
            return lambda: commission.decision_approve(item=item, actor=actor)
        if s == "decision_refuse":
            return lambda: commission.decision_refuse(item=item, actor=actor, reason=text)
        if s == "claim_withdraw":
            return lambda: services.claim_withdraw(claim=c, actor=actor)
        if s == "claim_forward_out":
            body = CompetentBody.objects.get_or_create(name="Azəristiliktəchizat ASC", address="Bakı",
                                                       email="info@ait.az")[0]
            return lambda: services.claim_forward_out(claim=c, actor=actor, body=body, note=text)
        if s == "claim_leave_unconsidered":
            return lambda: services.claim_leave_unconsidered(claim=c, actor=actor, reason=text, nothing_new=True)
        raise AssertionError(s)

    def _refused(self, before: dict[str, Any], what: str, exc: ServiceError) -> None:
        after = snapshot()
        changed = {k for k in before if before[k] != after[k]}
        assert not changed, f"{what} was refused ({exc.code}: {exc}) but changed {changed}"
        SEEN["refused"] += 1
        event(f"refused: {what}")

    def _perform(self, action: Action, c: Claim, actor: User, item: AgendaItem | None, call: Any) -> None:
        before = snapshot()
        since = marks(before)
        previous = before["claims"][c.pk]["status"]
        try:
            call()
        except ServiceError as exc:
            if action.service.startswith("decision_") and item is not None \
                    and item.proposal.proposed_by_id == actor.pk:
                SEEN["four-eyes refusal"] += 1
            self._refused(before, action.service, exc)
            return
        after = snapshot()
        if after == before and action.service == "claim_take" \
                and actor is not None and actor.pk == c.operator_id:
            SEEN["taken again: nothing to do"] += 1  # claims.services.claim_take: already his
            return
        for pk, row in after["claims"].items():  # nothing else moved
            if pk != c.pk:
                assert row == before["claims"][pk], f"{action.service} on {c.number} changed claim {pk}"
        move = next((m for m in action.moves if previous in m.sources), None)
        if move is None:
            # agenda_remove of an item whose claim has left the commission: the stale item goes,
            # the claim does not move (commission.services.agenda_remove).
            assert action.service == "agenda_remove", f"{action.service} went through from {previous}"
            assert after["claims"][c.pk] == before["claims"][c.pk]
            assert [after["tallies"][k] for k in ("timeline", "notifications", "webhooks")] == [
                before["tallies"][k] for k in ("timeline", "notifications", "webhooks")]
            SEEN["stale item removed"] += 1
            return
        claim = Claim.objects.get(pk=c.pk)
        SEEN[move.name] += 1
        event(f"made: {move.name}")
        assert claim.status == (move.target or previous), f"{move.name}: {previous} -> {claim.status}"
        if move.outcome:
            assert claim.outcome == move.outcome
        events = list(ClaimEvent.objects.filter(pk__gt=since[0]).values_list("claim_id", "kind", "status", "public"))
        assert events == [(claim.pk, move.event, claim.status, move.public)], f"{move.name}: timeline {events}"
        assert AuditEntry.objects.filter(pk__gt=since[1], claim=claim, action=f"claim_{move.event}").exists()
        sent = sorted(Delivery.objects.filter(pk__gt=since[2]).values_list("claim_id", "event", "medium"))
        assert sent == (sorted([(claim.pk, move.notify, "email"), (claim.pk, move.notify, "sms")])
                        if move.notify else []), f"{move.name}: notifications {sent}"
        hooks = list(WebhookDelivery.objects.filter(pk__gt=since[3]).values_list("claim_id", "kind"))
        assert hooks == ([(claim.pk, move.event)] if move.public else []), f"{move.name}: webhooks {hooks}"
        if move in (workflow.APPROVE, workflow.REFUSE):
            decided = AgendaItem.objects.get(pk=item.pk) if item is not None else None
            assert decided is not None and decided.decided_by_id == actor.pk
            SEEN["closed by the commission"] += 1

    # --- Invariants --------------------------------------------------------------------------------------

    def _changed_since_last_look(self) -> bool:
        """Whether anything was written or the day changed since the invariants last looked
        (most actions are refused: nothing to look at again). Decisions, visits, agenda items
        and proposals are written only with a timeline or audit entry, which the tallies count."""
        seen = (tallies(), timezone.localdate(), sorted(Claim.objects.values_list(
            "pk", "status", "outcome", "operator_id", "due_on", "paused_on", "working_days")))
        if seen == self.last_look:
            return False
        self.last_look = seen
        return True

    @invariant()
    def the_workflow_holds(self) -> None:
        if not self._changed_since_last_look():
            return
        self._no_decision_by_its_proposer_or_an_absent_member()
        self._claims_hold()

    def _no_decision_by_its_proposer_or_an_absent_member(self) -> None:
        decided = AgendaItem.objects.exclude(decision="").exclude(pk__in=self.decisions_checked)
        for item in decided.select_related("proposal", "meeting"):
            self.decisions_checked.add(item.pk)
            assert item.decided_by_id != item.proposal.proposed_by_id, f"item {item.pk} decided by its proposer"
            assert item.meeting.members.filter(pk=item.decided_by_id).exists(), f"item {item.pk}: absent decider"

    def _claims_hold(self) -> None:
        today = timezone.localdate()
        REACHED.update(ClaimEvent.objects.values_list("status", flat=True).distinct())
        for claim in Claim.objects.prefetch_related("events", "info_requests"):
            row = (claim.pk, claim.status, claim.operator_id, claim.due_on, claim.paused_on, claim.working_days)
            if row not in self.held:  # what only a move changes is checked once per change
                self.held.add(row)
                timeline = list(claim.events.all())
                assert timeline and timeline[-1].status == claim.status, f"{claim.number}: timeline ends elsewhere"
                self._closed_by_whom(claim, timeline)
                assert (claim.status == ClaimStatus.AWAITING_CITIZEN) == (claim.paused_on is not None) or (
                    claim.status == ClaimStatus.WITHDRAWN), f"{claim.number}: paused_on {claim.paused_on}"
                if claim.paused_on is None:
                    assert claim.due_on == services.claim_due_on(claim, today=today), f"{claim.number}: due_on"
            if claim.status != ClaimStatus.AWAITING_CITIZEN:
                continue
            # The clock stands still while the claim waits for the citizen: as the days pass.
            assert claim.effective_due_on >= claim.due_on
            # ... until the date the citizen was asked to answer by: the clock runs again after it.
            if claim.due_on > claim.paused_on and (claim.paused_until is None or today <= claim.paused_until):
                assert claim.effective_due_on >= today, (
                    f"{claim.number} waits for the citizen since {claim.paused_on} and is overdue: "
                    f"effective due {claim.effective_due_on}, today {today}")

    @staticmethod
    def _closed_by_whom(claim: Claim, timeline: list[ClaimEvent]) -> None:
        """A claim closed from at_commission was closed by a decision of the commission."""
        for previous, entry in itertools.pairwise(timeline):
            if entry.status == ClaimStatus.CLOSED and previous.status != ClaimStatus.CLOSED:
                if previous.status == ClaimStatus.AT_COMMISSION:
                    decided = AgendaItem.objects.filter(claim=claim).exclude(decision="")
                    assert decided.exists(), f"{claim.number} closed from at_commission without a decision"
                    wanted = (DecisionKind.APPROVED if claim.outcome == ClaimOutcome.CORRECTED
                              else DecisionKind.REFUSED)
                    assert decided.get().decision == wanted
                elif entry.kind in ("closed_redirected", "closed_unconsidered"):  # art. 7.10, art. 8.1.4
                    assert previous.status in (ClaimStatus.FORWARDED, ClaimStatus.IN_REVIEW)
                else:
                    assert previous.status == ClaimStatus.IN_REVIEW and entry.kind == "closed_refused"


@pytest.mark.django_db
def test_the_workflow_holds_under_random_moves_by_random_people(cast):
    REACHED.clear()
    SEEN.clear()

    class Machine(WorkflowMachine):
        def __init__(self) -> None:
            super().__init__(cast)

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=60, stateful_step_count=40, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    assert REACHED == set(ClaimStatus.values), f"never reached: {set(ClaimStatus.values) - REACHED}"
    for happened in ("approve", "refuse", "close_no_correction", "withdraw", "answer_info", "record_inspection",
                     "return_from_commission", "refused", "four-eyes refusal"):
        assert SEEN[happened], f"the run never saw {happened}: {dict(SEEN)}"
