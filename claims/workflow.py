"""The claim workflow, declared once.

Every move a claim can make is a ``Move``: the statuses it starts from, the status it leads to
(None: the status stays), the parties who may make it, the timeline entry it records and the
notification it causes. ``perform`` is the only code that writes ``Claim.status``; the services
in ``claims.services``, ``inspections.services`` and ``commission.services`` call ``begin``
(lock the claim, check the status and the actor's right, before anything is written), do
their own work, and end with ``perform``, which records the change and announces it to the
subscribers named in ``settings.CLAIM_CHANGE_SUBSCRIBERS`` (notifications, webhooks,
inspections) inside the same transaction: a move and the messages it causes commit together.

docs/architecture.md shows this declaration as a table (``manage.py workflow_table``); a test
fails when the two differ. To add a move: declare it here, write its service, add it to the
table with ``manage.py workflow_table --write``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.errors import NotAllowed, ServiceError
from identity import roles
from identity.models import Role, User

from .models import Claim, ClaimEvent
from .transitions import OPEN_STATUSES, ClaimOutcome, ClaimStatus

S = ClaimStatus


@dataclass(frozen=True)
class Context:
    """What a party's rule may look at besides the actor and the claim: the visit an
    inspector acts on, the agenda item a commission member decides."""

    inspection: Any = None  # inspections.models.Inspection
    item: Any = None  # commission.models.AgendaItem


NO_CONTEXT = Context()

Rule = Callable[[User | None, Claim, Context], bool]


@dataclass(frozen=True)
class Party:
    """Somebody who may make a move: a role, and what ties the person to the claim."""

    code: str
    label: str
    rule: Rule = field(compare=False)

    def holds(self, actor: User | None, claim: Claim, context: Context = NO_CONTEXT) -> bool:
        return self.rule(actor, claim, context)


def _citizen(actor: User | None, claim: Claim, _c: Context) -> bool:
    return actor is not None and actor.is_active and actor.is_citizen and actor.pk == claim.citizen_id


def _free_operator(actor: User | None, claim: Claim, _c: Context) -> bool:
    return (roles.holds_at(actor, Role.OPERATOR, claim.branch_id)
            and claim.operator_id in (None, actor.pk if actor else None))


def _unassigned_operator(actor: User | None, claim: Claim, _c: Context) -> bool:
    return claim.operator_id is None and roles.holds_at(actor, Role.OPERATOR, claim.branch_id)


def _claim_operator(actor: User | None, claim: Claim, _c: Context) -> bool:
    return (actor is not None and claim.operator_id == actor.pk
            and roles.holds_at(actor, Role.OPERATOR, claim.branch_id))


def _branch_manager(actor: User | None, claim: Claim, _c: Context) -> bool:
    return roles.is_manager_of(actor, claim.branch_id)


def _visit_inspector(actor: User | None, claim: Claim, c: Context) -> bool:
    inspection = c.inspection
    if actor is None or inspection is None or inspection.claim_id != claim.pk:
        return False
    return roles.is_administrator(actor) or (inspection.inspector_id == actor.pk
                                             and roles.holds_at(actor, Role.INSPECTOR, claim.branch_id))


def _secretary(actor: User | None, _claim: Claim, _c: Context) -> bool:
    return roles.has_role(actor, Role.COMMISSION_SECRETARY)


def _deciding_member(actor: User | None, claim: Claim, c: Context) -> bool:
    item = c.item
    if actor is None or item is None or item.claim_id != claim.pk:
        return False
    if not roles.has_role(actor, *roles.COMMISSION_ROLES):
        return False
    # Four-eyes rule: whoever proposed the correction never decides on it, whatever roles he
    # also holds.
    if item.proposal.proposed_by_id == actor.pk:
        return False
    return item.meeting.members.filter(pk=actor.pk).exists()


def _system(actor: User | None, _claim: Claim, _c: Context) -> bool:
    return actor is None


SYSTEM = Party("system", "the service itself (no person)", _system)
CITIZEN = Party("citizen", "the citizen who filed the claim", _citizen)
FREE_OPERATOR = Party("free_operator", "an operator of the claim's branch, when the claim is his or nobody's",
                      _free_operator)
UNASSIGNED_OPERATOR = Party("unassigned_operator", "an operator of the claim's branch, when nobody holds the claim",
                            _unassigned_operator)
CLAIM_OPERATOR = Party("claim_operator", "the claim's own operator", _claim_operator)
BRANCH_MANAGER = Party("branch_manager", "the manager of the claim's branch, or an administrator", _branch_manager)
VISIT_INSPECTOR = Party("visit_inspector", "the inspector the visit is assigned to, or an administrator",
                        _visit_inspector)
SECRETARY = Party("commission_secretary", "a secretary of the commission", _secretary)
DECIDING_MEMBER = Party("deciding_member",
                        "a commission member present at the meeting who did not propose the correction",
                        _deciding_member)

PARTIES = (SYSTEM, CITIZEN, FREE_OPERATOR, UNASSIGNED_OPERATOR, CLAIM_OPERATOR, BRANCH_MANAGER, VISIT_INSPECTOR,
           SECRETARY, DECIDING_MEMBER)


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the status stays
    parties: tuple[Party, ...]
    event: str  # the timeline entry's kind (and the audit action claim_<event>)
    public: bool = True  # the citizen sees the timeline entry (and channels get its webhook)
    notify: str | None = None  # the notification event sent to the citizen
    outcome: str | None = None
    creates: bool = False  # the move that brings a claim into being

    def may(self, actor: User | None, claim: Claim, context: Context = NO_CONTEXT) -> bool:
        return any(p.holds(actor, claim, context) for p in self.parties)


OPEN = frozenset(OPEN_STATUSES)
# Once the commission approved a correction, only billing's confirmation moves the claim.
DECIDED = frozenset({S.POSTING})
STAFF_OPEN = OPEN - {S.REGISTERED} - DECIDED
BRANCH_STAFF = (CLAIM_OPERATOR, BRANCH_MANAGER)


def _m(name: str, label: str, sources: Iterable[str], target: str | None, parties: tuple[Party, ...],
       event: str, **kw: Any) -> Move:
    return Move(name=name, label=label, sources=frozenset(sources), target=target, parties=parties, event=event,
                **kw)


REGISTER = _m("register", "File a claim", {S.REGISTERED}, None, (CITIZEN,), "registered", notify="registered",
              creates=True)
FORWARD = _m("forward", "Route to the branch and its least-loaded operator", {S.REGISTERED}, S.FORWARDED,
             (SYSTEM,), "forwarded", notify="forwarded")
TAKE = _m("take", "Start the review", {S.FORWARDED}, S.IN_REVIEW, (FREE_OPERATOR,), "review_started")
PICK_UP = _m("pick_up", "Take an unassigned claim", STAFF_OPEN - {S.FORWARDED}, None, (UNASSIGNED_OPERATOR,), "taken",
             public=False)
REASSIGN = _m("reassign", "Hand to another operator", STAFF_OPEN, None, (BRANCH_MANAGER,), "reassigned",
              public=False)
EXTEND = _m("extend_deadline", "Extend to 30 working days", STAFF_OPEN, None, BRANCH_STAFF, "deadline_extended",
            notify="deadline_extended")
REQUEST_INFO = _m("request_info", "Ask the citizen", {S.IN_REVIEW}, S.AWAITING_CITIZEN, BRANCH_STAFF,
                  "info_requested", notify="info_requested")
ANSWER_INFO = _m("answer_info", "Answer the request", {S.AWAITING_CITIZEN}, S.IN_REVIEW, (CITIZEN,),
                 "info_answered")
ORDER_INSPECTION = _m("order_inspection", "Order an on-site inspection", {S.IN_REVIEW}, S.INSPECTION, BRANCH_STAFF,
                      "inspection_ordered", notify="inspection_scheduled")
RECORD_INSPECTION = _m("record_inspection", "Record the inspection's result", {S.INSPECTION}, S.IN_REVIEW,
                       (VISIT_INSPECTOR,), "inspection_done")
RESCHEDULE_INSPECTION = _m("reschedule_inspection", "Nobody at the address: a new visit", {S.INSPECTION}, None,
                           (VISIT_INSPECTOR,), "inspection_rescheduled", notify="inspection_scheduled")
CANCEL_INSPECTION = _m("cancel_inspection", "Cancel the inspection", {S.INSPECTION}, S.IN_REVIEW, BRANCH_STAFF,
                       "inspection_cancelled", notify="inspection_cancelled")
PROPOSE_CORRECTION = _m("propose_correction", "Send a correction to the commission", {S.IN_REVIEW},
                        S.AT_COMMISSION, BRANCH_STAFF, "sent_to_commission")
CLOSE_NO_CORRECTION = _m("close_no_correction", "Close: no correction due", {S.IN_REVIEW}, S.CLOSED, BRANCH_STAFF,
                         "closed_refused", notify="closed_refused", outcome=ClaimOutcome.REFUSED)
AGENDA_ADD = _m("agenda_add", "Put on a meeting's agenda", {S.AT_COMMISSION}, None, (SECRETARY,),
                "commission_agenda", public=False)
AGENDA_REMOVE = _m("agenda_remove", "Take off the agenda", {S.AT_COMMISSION}, None, (SECRETARY,),
                   "commission_agenda_removed", public=False)
RETURN_FROM_COMMISSION = _m("return_from_commission", "Return to the operator", {S.AT_COMMISSION}, S.IN_REVIEW,
                            (SECRETARY,), "returned_from_commission")
# The approved correction is posted to billing through the outbox (billing.services); the
# claim closes when billing confirms the posting, and only then is the citizen told.
APPROVE = _m("approve", "Approve the correction", {S.AT_COMMISSION}, S.POSTING, (DECIDING_MEMBER,),
             "correction_approved")
CONFIRM_POSTING = _m("confirm_posting", "Billing confirmed the correction", {S.POSTING}, S.CLOSED, (SYSTEM,),
                     "closed_corrected", notify="closed_corrected", outcome=ClaimOutcome.CORRECTED)
REFUSE = _m("refuse", "Refuse the correction", {S.AT_COMMISSION}, S.CLOSED, (DECIDING_MEMBER,), "closed_refused",
            notify="closed_refused", outcome=ClaimOutcome.REFUSED)
WITHDRAW = _m("withdraw", "Withdraw the claim", OPEN - DECIDED, S.WITHDRAWN, (CITIZEN,), "withdrawn",
              notify="withdrawn")
# Law "On citizens' appeals": art. 7.10 (outside competence, within 3 working days), art. 8.1.4
# (a repeat appeal left unconsidered, answered within 5), art. 10.2 (the wait for information).
FORWARD_OUT = _m("forward_out", "Forward to the competent body (outside competence)", {S.FORWARDED, S.IN_REVIEW},
                 S.CLOSED, BRANCH_STAFF, "closed_redirected", notify="closed_redirected",
                 outcome=ClaimOutcome.REDIRECTED)
LEAVE_UNCONSIDERED = _m("leave_unconsidered", "Leave a repeat appeal unconsidered", {S.FORWARDED, S.IN_REVIEW},
                        S.CLOSED, BRANCH_STAFF, "closed_unconsidered", notify="closed_unconsidered",
                        outcome=ClaimOutcome.UNCONSIDERED)
REMIND_INFO = _m("remind_info", "Remind the citizen before the requested date", {S.AWAITING_CITIZEN}, None,
                 (SYSTEM,), "info_reminded", notify="info_reminder")
EXPIRE_INFO = _m("expire_info", "The requested date passed unanswered: back to the operator",
                 {S.AWAITING_CITIZEN}, S.IN_REVIEW, (SYSTEM,), "info_expired", notify="info_expired")

MOVES: tuple[Move, ...] = (
    REGISTER, FORWARD, TAKE, PICK_UP, REASSIGN, EXTEND, REQUEST_INFO, ANSWER_INFO, ORDER_INSPECTION,
    RECORD_INSPECTION, RESCHEDULE_INSPECTION, CANCEL_INSPECTION, PROPOSE_CORRECTION, CLOSE_NO_CORRECTION,
    AGENDA_ADD, AGENDA_REMOVE, RETURN_FROM_COMMISSION, APPROVE, CONFIRM_POSTING, REFUSE, WITHDRAW, FORWARD_OUT,
    LEAVE_UNCONSIDERED,
    REMIND_INFO, EXPIRE_INFO,
)
BY_NAME = {m.name: m for m in MOVES}


def transitions() -> dict[str, frozenset[str]]:
    """Status -> the statuses some move leads to from it (derived from MOVES)."""
    table: dict[str, set[str]] = {s: set() for s in ClaimStatus.values}
    for move in MOVES:
        if move.target is not None:
            for source in move.sources:
                table[source].add(move.target)
    return {s: frozenset(t) for s, t in table.items()}


def as_markdown() -> str:
    """The declaration as the table docs/architecture.md shows (``manage.py workflow_table``)."""
    def status_list(statuses: Iterable[str]) -> str:
        return ", ".join(f"`{s}`" for s in ClaimStatus.values if s in set(statuses)) or "(new claim)"

    rows = ["| move | from | to | who may make it | timeline entry | tells the citizen |",
            "|---|---|---|---|---|---|"]
    for m in MOVES:
        target = "(new claim) `registered`" if m.creates else (f"`{m.target}`" if m.target else "(stays)")
        if m.outcome:
            target += f" ({m.outcome})"
        who = "; ".join(p.label for p in m.parties)
        entry = f"`{m.event}`" + ("" if m.public else " (staff only)")
        sources = "—" if m.creates else status_list(m.sources)
        rows.append(f"| `{m.name}` | {sources} | {target} | {who} | {entry} | {f'`{m.notify}`' if m.notify else '—'} |")
    return "\n".join(rows) + "\n"


# --- Refusals ------------------------------------------------------------------------------------

class IllegalMove(ServiceError):
    """The claim's status does not allow the move."""

    code = "illegal_move"

    def __init__(self, claim: Claim, move: Move):
        self.move, self.status = move, claim.status
        super().__init__(_("Bu əməliyyat müraciətin hazırkı statusunda mümkün deyil (%(status)s).")
                         % {"status": claim.get_status_display()})


def refuse_actor(move: Move) -> NotAllowed:
    return NotAllowed(_("Bu əməliyyatı etmək səlahiyyətiniz yoxdur."), code=f"forbidden_{move.name}")


def check(move: Move, *, claim: Claim, actor: User | None, context: Context = NO_CONTEXT) -> None:
    """Refuse the move (IllegalMove, NotAllowed) unless the claim's status allows it and the
    actor is one of its parties. Writes nothing."""
    if claim.status not in move.sources:
        raise IllegalMove(claim, move)
    if not move.may(actor, claim, context):
        raise refuse_actor(move)


def allowed_moves(*, claim: Claim, actor: User | None, context: Context = NO_CONTEXT) -> set[str]:
    """The names of the moves ``actor`` may make on ``claim`` now (what a page offers)."""
    return {m.name for m in MOVES if not m.creates and claim.status in m.sources and m.may(actor, claim, context)}


def lock(claim: Claim) -> Claim:
    """The claim's row, locked until the transaction ends. Every service that changes a claim
    locks it first (then any row of its own), so concurrent moves queue up."""
    return Claim.objects.select_for_update().select_related("branch").get(pk=claim.pk)


def begin(move: Move, *, claim: Claim, actor: User | None, context: Context = NO_CONTEXT) -> Claim:
    """Inside a transaction: lock the claim and check the move. Returns the locked claim."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claims.workflow.begin must run inside transaction.atomic")
    locked = lock(claim)
    check(move, claim=locked, actor=actor, context=context)
    return locked


# --- Performing a move -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """What subscribers are told after a move is recorded (still inside its transaction)."""

    move: Move
    claim: Claim
    actor: User | None
    event: ClaimEvent
    previous_status: str
    context: Context = NO_CONTEXT
    extra: dict[str, Any] = field(default_factory=dict)  # the notification's variables


def state_snapshot(claim: Claim) -> dict[str, Any]:
    return {"status": claim.status, "operator": claim.operator_id,
            "due_on": claim.due_on.isoformat()}


@cache
def _subscribers() -> tuple[Callable[[Change], None], ...]:
    return tuple(import_string(path) for path in settings.CLAIM_CHANGE_SUBSCRIBERS)


def perform(move: Move, *, claim: Claim, actor: User | None, note: str = "", context: Context = NO_CONTEXT,
            fields: dict[str, Any] | None = None, audit: dict[str, Any] | None = None,
            notify_extra: dict[str, Any] | None = None, at: datetime | None = None,
            params: dict[str, Any] | None = None) -> Claim:
    """Record ``move`` on ``claim`` (locked by ``begin`` in this transaction): the new status,
    the outcome and ``fields``, one timeline entry, one audit entry, and the subscribers'
    rows (notifications, webhooks). The check runs again, so nothing reaches here unchecked.

    The timeline entry keeps the move and ``params`` (JSON values), never a sentence: its text
    is written when it is read, in the reader's language (``claims.timeline``). ``note`` is
    only for what a person wrote (a question, an answer, a reason)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claims.workflow.perform must run inside transaction.atomic")
    check(move, claim=claim, actor=actor, context=context)
    before = {} if move.creates else state_snapshot(claim)
    previous = claim.status
    if move.target is not None:
        claim.status = move.target
    if move.outcome is not None:
        claim.outcome = move.outcome
    for name, value in (fields or {}).items():
        setattr(claim, name, value)
    if not move.creates:
        claim.save()
    event = ClaimEvent.objects.create(claim=claim, at=at or timezone.now(), status=claim.status, kind=move.event,
                                      move=move.name, params=params or {}, note=note, public=move.public)
    audit_record(actor=actor, action=f"claim_{move.event}", claim=claim, before=before,
                 after=state_snapshot(claim) | (audit or {}))
    change = Change(move=move, claim=claim, actor=actor, event=event, previous_status=previous, context=context,
                    extra=dict(notify_extra or {}))
    for subscriber in _subscribers():
        subscriber(change)
    return claim
