"""Who holds which staff role, and where. The one place that reads StaffAssignment for access
decisions; the claims workflow's parties and the staff pages' decorators use it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from .models import Role, StaffAssignment, User

BRANCH_ROLES = (Role.OPERATOR, Role.INSPECTOR, Role.BRANCH_MANAGER)
COMMISSION_ROLES = (Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY)

_CACHE = "_assignments_cache"


def assignments(user: User | AnonymousUser | None) -> frozenset[tuple[str, int | None]]:
    """The (role, branch id) pairs the user holds; a superuser is also an administrator; an
    anonymous user holds none. Read once per user object (a request's user, a service's actor)."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_citizen:
        return frozenset()
    cached: frozenset[tuple[str, int | None]] | None = getattr(user, _CACHE, None)
    if cached is None:
        pairs: set[tuple[str, int | None]] = set(
            StaffAssignment.objects.filter(user=user).values_list("role", "branch_id"))
        if user.is_superuser:
            pairs.add((Role.ADMINISTRATOR, None))
        cached = frozenset(pairs)
        setattr(user, _CACHE, cached)
    return cached


def forget(user: User) -> None:
    """Drop the cached assignments (after they changed)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def roles_of(user: User | AnonymousUser | None) -> set[str]:
    return {role for role, _branch in assignments(user)}


def has_role(user: User | AnonymousUser | None, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user: User | AnonymousUser | None) -> bool:
    return bool(assignments(user))


def is_administrator(user: User | AnonymousUser | None) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def holds_at(user: User | AnonymousUser | None, role: str, branch_id: int | None) -> bool:
    """The user holds ``role`` at the branch (a branch-less assignment of a branch role does
    not count: branch staff work for one branch)."""
    return (role, branch_id) in assignments(user)


def branch_ids(user: User | AnonymousUser | None, roles: tuple[str, ...] = BRANCH_ROLES) -> list[int]:
    return sorted({b for role, b in assignments(user) if role in roles and b is not None})


def is_manager_of(user: User | AnonymousUser | None, branch_id: int) -> bool:
    """The branch's manager, or an administrator (who manages every branch)."""
    return is_administrator(user) or holds_at(user, Role.BRANCH_MANAGER, branch_id)


def inspectors_of(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, assignments__role=Role.INSPECTOR,
                               assignments__branch_id=branch_id).distinct().order_by("last_name", "username")


def operators_of(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, assignments__role=Role.OPERATOR,
                               assignments__branch_id=branch_id).distinct().order_by("last_name", "username")
