"""Who among the staff may see and do what. Every back-office view fetches claims through
these functions, never with a bare query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404

from claims.models import Claim
from claims.transitions import ClaimStatus
from identity.models import Role, StaffAssignment, User

BRANCH_ROLES = (Role.OPERATOR, Role.INSPECTOR, Role.BRANCH_MANAGER)
COMMISSION_ROLES = (Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY)


def roles_of(user: User) -> set[str]:
    if not user.is_authenticated or user.is_citizen:
        return set()
    cached = getattr(user, "_roles_cache", None)
    if cached is None:
        cached = set(StaffAssignment.objects.filter(user=user).values_list("role", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMINISTRATOR)
        user._roles_cache = cached
    return cached


def has_role(user: User, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user: User) -> bool:
    return bool(roles_of(user))


def branch_ids(user: User, roles: Iterable[str] = BRANCH_ROLES) -> list[int]:
    return list(StaffAssignment.objects.filter(user=user, role__in=list(roles), branch__isnull=False)
                .values_list("branch_id", flat=True))


def claims_visible_to(user: User) -> QuerySet[Claim]:
    """Administrators see every claim; operators, inspectors and managers their branches';
    the commission what has been sent to it; an inspector also the claims he inspects."""
    roles = roles_of(user)
    qs = Claim.objects.all()
    if Role.ADMINISTRATOR in roles:
        return qs
    cond = Q(pk__in=[])
    if roles & {Role.OPERATOR, Role.BRANCH_MANAGER}:
        cond |= Q(branch_id__in=branch_ids(user, (Role.OPERATOR, Role.BRANCH_MANAGER)))
    if Role.INSPECTOR in roles:
        cond |= Q(inspections__inspector=user)
    if roles & set(COMMISSION_ROLES):
        cond |= Q(status=ClaimStatus.AT_COMMISSION) | Q(agenda_items__isnull=False)
    return qs.filter(cond).distinct() if roles else qs.none()


def claim_get_for_staff(*, user: User, number: str) -> Claim:
    claim = claims_visible_to(user).filter(number=number).first()
    if claim is None:
        raise Http404
    return claim


def can_work_on(user: User, claim: Claim) -> bool:
    """Operators of the claim's branch and its managers may act on it; administrators too."""
    roles = roles_of(user)
    if Role.ADMINISTRATOR in roles:
        return True
    return bool(roles & {Role.OPERATOR, Role.BRANCH_MANAGER}) and claim.branch_id in branch_ids(
        user, (Role.OPERATOR, Role.BRANCH_MANAGER))


def is_manager_of(user: User, branch_id: int) -> bool:
    return has_role(user, Role.ADMINISTRATOR) or branch_id in branch_ids(user, (Role.BRANCH_MANAGER,))


def inspectors_of(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, assignments__role=Role.INSPECTOR,
                               assignments__branch_id=branch_id).distinct().order_by("last_name", "username")


def operators_of(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, assignments__role=Role.OPERATOR,
                               assignments__branch_id=branch_id).distinct().order_by("last_name", "username")
