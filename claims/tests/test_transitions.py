import pytest

from claims import transitions
from claims.transitions import TRANSITIONS, ClaimStatus, IllegalTransition


class _Claim:
    def __init__(self, status):
        self.status = status


def test_every_status_of_the_life_cycle_is_declared():
    assert set(TRANSITIONS) == set(ClaimStatus.values)


@pytest.mark.parametrize("current", [s for s in ClaimStatus.values if s not in ("closed", "withdrawn")])
def test_any_state_before_closed_can_be_withdrawn(current):
    assert transitions.allowed(current, ClaimStatus.WITHDRAWN)


@pytest.mark.parametrize("final", ["closed", "withdrawn"])
def test_final_states_go_nowhere(final):
    for target in ClaimStatus.values:
        with pytest.raises(IllegalTransition):
            transitions.require(_Claim(final), to=target)


@pytest.mark.parametrize(("current", "target"), [
    ("registered", "forwarded"), ("forwarded", "in_review"), ("in_review", "inspection"),
    ("inspection", "in_review"), ("in_review", "awaiting_citizen"), ("awaiting_citizen", "in_review"),
    ("in_review", "at_commission"), ("at_commission", "closed"), ("in_review", "closed"),
])
def test_the_design_moves_are_allowed(current, target):
    transitions.require(_Claim(current), to=target)


@pytest.mark.parametrize(("current", "target"), [
    ("registered", "closed"), ("registered", "in_review"), ("forwarded", "at_commission"),
    ("inspection", "closed"), ("awaiting_citizen", "at_commission"), ("forwarded", "registered"),
])
def test_shortcuts_are_refused(current, target):
    with pytest.raises(IllegalTransition) as exc:
        transitions.require(_Claim(current), to=target)
    assert current in str(exc.value) and target in str(exc.value)
