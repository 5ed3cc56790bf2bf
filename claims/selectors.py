from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from identity import roles
from identity.models import Role, User

from .models import Claim, ClaimEvent, ReasonTemplate
from .transitions import OPEN_STATUSES, ClaimStatus


def reasons_active() -> QuerySet[ReasonTemplate]:
    return ReasonTemplate.objects.filter(active=True).order_by("ordering", "id")


def claims_of_citizen(*, citizen: User) -> QuerySet[Claim]:
    return Claim.objects.filter(citizen=citizen).select_related("reason").order_by("-registered_at")


def claim_get_for_citizen(*, citizen: User, number: str) -> Claim:
    """The citizen's own claim by number; anybody else's (or none) is a 404."""
    claim = (
        Claim.objects.filter(citizen=citizen, number=number)
        .select_related("reason", "branch")
        .prefetch_related("evidence", "info_requests",
                          Prefetch("events", queryset=ClaimEvent.objects.filter(public=True)))
        .first()
    )
    if claim is None:
        raise Http404
    return claim


def claim_open_for_invoice(*, invoice_number: str) -> Claim | None:
    return Claim.objects.filter(invoice_number=invoice_number, status__in=OPEN_STATUSES).first()


def claims_visible_to_staff(*, user: User) -> QuerySet[Claim]:
    """Administrators see every claim; operators and managers their branches'; an inspector
    the claims he inspects; the commission what has been sent to it. Seeing is not acting:
    the workflow's parties decide who may make each move."""
    held = roles.roles_of(user)
    qs = Claim.objects.all()
    if not held:
        return qs.none()
    if Role.ADMINISTRATOR in held:
        return qs
    cond = Q(pk__in=[])
    if held & {Role.OPERATOR, Role.BRANCH_MANAGER}:
        cond |= Q(branch_id__in=roles.branch_ids(user, (Role.OPERATOR, Role.BRANCH_MANAGER)))
    if Role.INSPECTOR in held:
        cond |= Q(inspections__inspector=user)
    if held & set(roles.COMMISSION_ROLES):
        cond |= Q(status=ClaimStatus.AT_COMMISSION) | Q(agenda_items__isnull=False)
    return qs.filter(cond).distinct()


def claim_get_for_staff(*, user: User, number: str) -> Claim:
    """A claim the staff member may see, by number; any other (or none) is a 404."""
    claim = claims_visible_to_staff(user=user).filter(number=number).first()
    if claim is None:
        raise Http404
    return claim


def claims_same_matter(*, citizen_key: str, subscriber_code: str, invoice_number: str,
                       exclude_pk: int | None = None, limit: int = 20) -> list[Claim]:
    """The person's claims on the same invoice or the same account, newest first, with how they
    ended (art. 8.1.4: shown at filing and to the operator). Matched by the FIN's keyed hash,
    which outlives anonymisation."""
    if not citizen_key:
        return []
    qs = (Claim.objects.filter(citizen_key=citizen_key)
          .filter(Q(invoice_number=invoice_number) | Q(subscriber_code=subscriber_code))
          .order_by("-registered_at"))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs[:limit])
