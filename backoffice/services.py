"""Back-office jobs that are not about one claim."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from claims.models import Claim
from claims.transitions import OPEN_STATUSES, ClaimStatus
from core.text import format_day
from identity.models import Role, StaffAssignment, User
from notifications.models import Delivery, Event
from notifications.services import staff_email_queue

from .selectors import deadline_marks


def _digest_body(user: User, claims: list[Claim], today: date) -> str:
    """The digest's text in the active language (the caller chooses it)."""
    overdue = [c for c in claims if c.due_on < today]
    near = [c for c in claims if c.due_on >= today]
    lines = [_("Hörmətli %(name)s,") % {"name": user.display_name}, ""]
    for title, rows in ((_("Müddəti keçmiş müraciətlər"), overdue), (_("Müddəti yaxınlaşan müraciətlər"), near)):
        if rows:
            lines.append(f"{title} ({len(rows)}):")
            lines += [f"  {c.number}  {format_day(c.due_on)}  {c.get_status_display()}  {c.address}" for c in rows]
            lines.append("")
    return "\n".join(lines)


@transaction.atomic
def deadline_digest_queue(*, today: date | None = None, language: str | None = None) -> int:
    """E-mail each operator and branch manager the open claims that are overdue or nearly
    due, in ``language`` (STAFF_LANGUAGE, Azerbaijani by default). Idempotent per recipient
    and day: running it twice on a day sends nothing more."""
    language = language or settings.STAFF_LANGUAGE
    today, near = deadline_marks(today)
    # A claim waiting for the citizen has its clock stopped: it is neither overdue nor near.
    claims = list(Claim.objects.filter(status__in=sorted(OPEN_STATUSES - {ClaimStatus.AWAITING_CITIZEN}),
                                       due_on__lte=near)
                  .select_related("operator").order_by("due_on", "id"))
    per_user: dict[int, list[Claim]] = defaultdict(list)
    users: dict[int, User] = {}
    for c in claims:
        if c.operator is not None:
            per_user[c.operator.pk].append(c)
            users[c.operator.pk] = c.operator
    by_branch: dict[int, list[Claim]] = defaultdict(list)
    for c in claims:
        by_branch[c.branch_id].append(c)
    for a in StaffAssignment.objects.filter(role=Role.BRANCH_MANAGER, branch_id__in=list(by_branch),
                                            user__is_active=True).select_related("user"):
        assert a.branch_id is not None  # filtered by branch_id__in above
        users[a.user_id] = a.user
        per_user[a.user_id].extend(c for c in by_branch[a.branch_id] if c not in per_user[a.user_id])
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    already = set(Delivery.objects.filter(event=Event.DEADLINE_DIGEST, created_at__gte=start)
                  .values_list("recipient", flat=True))
    sent = 0
    for user_id, rows in per_user.items():
        user = users[user_id]
        if not user.email or user.email in already:
            continue
        overdue = sum(1 for c in rows if c.due_on < today)
        with translation.override(language):
            subject = _("Müddətlər: %(overdue)s gecikmiş, %(near)s yaxınlaşan müraciət") % {
                "overdue": overdue, "near": len(rows) - overdue}
            body = _digest_body(user, sorted(rows, key=lambda c: c.due_on), today)
        staff_email_queue(event=Event.DEADLINE_DIGEST, recipient=user.email, subject=subject, body=body,
                          language=language)
        already.add(user.email)
        sent += 1
    return sent
