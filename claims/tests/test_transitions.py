import pytest

from claims import workflow
from claims.transitions import OPEN_STATUSES, ClaimStatus

TABLE = workflow.transitions()


def test_every_status_of_the_life_cycle_is_declared():
    assert set(TABLE) == set(ClaimStatus.values)


@pytest.mark.parametrize("current", sorted(OPEN_STATUSES - {ClaimStatus.POSTING}))
def test_any_state_before_the_decision_can_be_withdrawn(current):
    assert ClaimStatus.WITHDRAWN in TABLE[current]


def test_an_approved_correction_waits_only_for_billing():
    # Decided by the commission: neither the citizen nor staff move it; billing's confirmation
    # of the posting closes it as corrected.
    assert TABLE[ClaimStatus.POSTING] == frozenset({ClaimStatus.CLOSED})
    leaving = [m for m in workflow.MOVES if ClaimStatus.POSTING in m.sources]
    assert [(m.name, m.parties, m.outcome) for m in leaving] == [("confirm_posting", (workflow.SYSTEM,), "corrected")]


@pytest.mark.parametrize("final", ["closed", "withdrawn"])
def test_final_states_go_nowhere(final):
    assert TABLE[final] == frozenset()
    assert not [m.name for m in workflow.MOVES if final in m.sources]


@pytest.mark.parametrize(("current", "target"), [
    ("registered", "forwarded"), ("forwarded", "in_review"), ("in_review", "inspection"),
    ("inspection", "in_review"), ("in_review", "awaiting_citizen"), ("awaiting_citizen", "in_review"),
    ("in_review", "at_commission"), ("at_commission", "closed"), ("at_commission", "in_review"),
    ("in_review", "closed"),
])
def test_the_design_moves_are_declared(current, target):
    assert target in TABLE[current]


@pytest.mark.parametrize(("current", "target"), [
    ("registered", "closed"), ("registered", "in_review"), ("forwarded", "at_commission"),
    ("inspection", "closed"), ("awaiting_citizen", "at_commission"), ("forwarded", "registered"),
])
def test_shortcuts_are_not_declared(current, target):
    assert target not in TABLE[current]


def test_only_the_commission_closes_a_claim_that_is_at_the_commission():
    closing = [m for m in workflow.MOVES if ClaimStatus.AT_COMMISSION in m.sources
               and m.target in (ClaimStatus.CLOSED, ClaimStatus.POSTING)]
    assert {m.name for m in closing} == {"approve", "refuse"}
    assert all(m.parties == (workflow.DECIDING_MEMBER,) for m in closing)


def test_every_move_has_a_unique_name_and_timeline_entry():
    assert len({m.name for m in workflow.MOVES}) == len(workflow.MOVES)
    assert all(m.event and m.parties for m in workflow.MOVES)
