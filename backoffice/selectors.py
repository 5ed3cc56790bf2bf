"""Read queries of the back office: the work queue and what the claim page shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateway import InvoiceInfo
from claims.deadlines import FORWARD_OUT_WORKING_DAYS, WorkingCalendar, effective_due_on, period_due_on
from claims.models import Claim
from claims.transitions import OPEN_STATUSES, ClaimStatus
from identity.models import Role, User
from identity.roles import branch_ids, roles_of

NEAR_WORKING_DAYS = 3


def deadline_marks(today: date | None = None) -> tuple[date, date]:
    """(today, the last day counted as nearly due)."""
    today = today or timezone.localdate()
    return today, WorkingCalendar().add_working_days(today, NEAR_WORKING_DAYS)


def queue_for(user: User, *, scope: str = "", status: str = "", reason: str = "", due: str = "") -> QuerySet[Claim]:
    """The operator's own claims and the branch's unassigned ones (managers: every claim of
    their branches; administrators: all), open ones by default, most urgent first. Served by
    the (operator, status, due_on) and (branch, status, due_on) indexes."""
    roles = roles_of(user)
    qs = Claim.objects.select_related("reason", "branch", "operator")
    if Role.ADMINISTRATOR in roles:
        pass
    elif Role.BRANCH_MANAGER in roles:
        qs = qs.filter(branch_id__in=branch_ids(user, (Role.BRANCH_MANAGER, Role.OPERATOR)))
    else:
        qs = qs.filter(Q(operator=user) | Q(operator__isnull=True, branch_id__in=branch_ids(user, (Role.OPERATOR,))))
    if scope == "mine":
        qs = qs.filter(operator=user)
    elif scope == "unassigned":
        qs = qs.filter(operator__isnull=True)
    qs = qs.filter(status=status) if status else qs.filter(status__in=sorted(OPEN_STATUSES))
    if reason:
        qs = qs.filter(reason__code=reason)
    today, near = deadline_marks()
    # A claim waiting for the citizen has its clock stopped: never overdue nor nearly due.
    if due == "overdue":
        qs = qs.filter(due_on__lt=today).exclude(status=ClaimStatus.AWAITING_CITIZEN)
    elif due == "near":
        qs = qs.filter(due_on__gte=today, due_on__lte=near).exclude(status=ClaimStatus.AWAITING_CITIZEN)
    return qs.order_by("due_on", "id")


def with_effective_due(claims: Iterable[Claim], *, today: date | None = None) -> list[Claim]:
    """The claims, each with ``effective_due`` set (see claims.deadlines.effective_due_on),
    computed with one calendar for the whole page."""
    today = today or timezone.localdate()
    calendar = WorkingCalendar()
    rows = list(claims)
    for c in rows:
        paused = c.paused_on if c.status == ClaimStatus.AWAITING_CITIZEN else None
        c.effective_due = effective_due_on(due_on=c.due_on, paused_on=paused, today=today,  # type: ignore[attr-defined]
                                           calendar=calendar, until=c.paused_until)
        # Art. 7.10: a claim not yet taken up may still be outside the utility's competence; it
        # must be forwarded within 3 working days of registration.
        c.forward_out_due = (  # type: ignore[attr-defined]
            period_due_on(start=timezone.localdate(c.registered_at), working_days=FORWARD_OUT_WORKING_DAYS,
                          calendar=calendar) if c.status == ClaimStatus.FORWARDED else None)
    return rows


@dataclass(frozen=True)
class HistoryRow:
    period: date
    number: str
    readings: list[tuple[str, int, bool]]
    consumption: int
    total: Decimal
    disputed: bool


def reading_history(invoices: list[InvoiceInfo], disputed: str) -> list[HistoryRow]:
    rows = [
        HistoryRow(period=i.period, number=i.number,
                   readings=[(ln.meter_serial, ln.current_reading, ln.estimated) for ln in i.lines],
                   consumption=i.consumption, total=i.total, disputed=i.number == disputed)
        for i in invoices
    ]
    return sorted(rows, key=lambda r: r.period)


def consumption_chart(rows: list[HistoryRow], width: int = 640, height: int = 160) -> dict[str, Any]:
    """Bars of monthly consumption for a small inline SVG chart (no JavaScript needed)."""
    if not rows:
        return {"bars": [], "width": width, "height": height}
    top = max(r.consumption for r in rows) or 1
    step = width / len(rows)
    bars = []
    for i, r in enumerate(rows):
        h = round((height - 20) * r.consumption / top)
        bars.append({"x": round(i * step + 2), "w": max(int(step - 4), 2), "y": height - 16 - h, "h": h,
                     "label": f"{r.period:%m.%y}", "value": r.consumption, "disputed": r.disputed,
                     "tx": round(i * step + step / 2)})
    return {"bars": bars, "width": width, "height": height}


def plausibility_hints(claim: Claim, invoices: list[InvoiceInfo]) -> list[str]:
    """What the system notices about the disputed invoice, for the operator."""
    hints: list[str] = []
    for ev in claim.evidence.all():
        if ev.billed_reading is not None and ev.billed_reading > ev.declared_reading:
            hints.append(_("Sayğac %(serial)s: fakturadakı göstərici %(billed)s müraciət günündəki göstəricidən "
                           "%(declared)s çoxdur: artıq oxunma ehtimalı var.")
                         % {"serial": ev.meter_serial, "billed": ev.billed_reading, "declared": ev.declared_reading})
    ordered = sorted(invoices, key=lambda i: i.period)
    idx = next((k for k, i in enumerate(ordered) if i.number == claim.invoice_number), None)
    if idx is None:
        return hints
    disputed = ordered[idx]
    before = ordered[max(0, idx - 12):idx]
    if before:
        avg = sum(i.consumption for i in before) / len(before)
        if avg > 0 and disputed.consumption >= 2 * avg:
            hints.append(_("Bu ayın istehlakı (%(cons)s m³) son %(n)s ayın ortalamasının (%(avg)s m³) "
                           "%(ratio)s mislidir.")
                         % {"cons": disputed.consumption, "n": len(before), "avg": f"{avg:.1f}",
                            "ratio": f"{disputed.consumption / avg:.1f}"})
    if disputed.estimated:
        hints.append(_("Faktura hesablanmış göstəriciyə əsaslanır: həmin ay sayğac oxunmayıb."))
    if idx + 1 < len(ordered):
        nxt = {ln.meter_serial: ln for ln in ordered[idx + 1].lines}
        for ln in disputed.lines:
            later = nxt.get(ln.meter_serial)
            if later is not None and later.previous_reading < ln.current_reading:
                hints.append(_("Sayğac %(serial)s: növbəti ayın başlanğıc göstəricisi (%(next)s) bu fakturadakından "
                               "(%(cur)s) azdır.") % {"serial": ln.meter_serial, "next": later.previous_reading,
                                                      "cur": ln.current_reading})
            elif later is not None and later.consumption == 0 and ln.consumption > 0:
                hints.append(_("Sayğac %(serial)s: növbəti ay istehlak sıfırdır: əvvəlki göstərici artıq oxunmuş "
                               "ola bilər.")
                             % {"serial": ln.meter_serial})
    return hints
