import pytest

from claims.services import claim_take
from identity.models import Role, StaffAssignment, User


def staff(username, role, branch=None):
    user = User.objects.create_user(username=username, password="demo-pass-2026", first_name=username.title())
    StaffAssignment.objects.create(user=user, role=role, branch=branch)
    return user


@pytest.fixture
def manager(branch):
    return staff("mgr-yas", Role.BRANCH_MANAGER, branch)


@pytest.fixture
def stranger(other_branch):
    """An operator of another branch: must be refused everything of this branch."""
    return staff("op-gnc-1", Role.OPERATOR, other_branch)


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(username="admin", password="demo-pass-2026", email="a@example.az")


@pytest.fixture
def claim(claim_factory, account):
    return claim_factory(account=account)


@pytest.fixture
def claim_in_review(claim, operator):
    return claim_take(claim=claim, actor=operator)
