"""The commission's read queries, shared by its pages and by other apps (the citizen's status
page asks ``letter_for_claim``). Each page's queries are a fixed number whatever the number of
claims or items."""

from __future__ import annotations

from typing import Literal, TypedDict

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django_stubs_ext import WithAnnotations

from claims.models import Claim, CorrectionProposal, ProposalStatus
from claims.transitions import ClaimStatus
from identity.models import Role, User

from .models import AgendaItem, Meeting

COMMISSION_ROLES = (Role.COMMISSION_MEMBER, Role.COMMISSION_SECRETARY)


class PendingProposals(TypedDict):
    pending_proposals: list[CorrectionProposal]


def _pending_proposals() -> Prefetch[Literal["proposals"], QuerySet[CorrectionProposal], Literal["pending_proposals"]]:
    return Prefetch(
        "proposals",
        queryset=CorrectionProposal.objects.filter(status=ProposalStatus.PENDING)
        .select_related("proposed_by").order_by("-proposed_at", "-id"),
        to_attr="pending_proposals",
    )


def claims_awaiting_agenda() -> QuerySet[WithAnnotations[Claim, PendingProposals]]:
    """Claims at the commission whose pending proposal is on no undecided agenda item, oldest
    deadline first; each has ``pending_proposals`` (the current one first)."""
    on_agenda = AgendaItem.objects.filter(claim=OuterRef("pk"), decision="", proposal__status=ProposalStatus.PENDING)
    return (
        Claim.objects.filter(status=ClaimStatus.AT_COMMISSION)
        .filter(Exists(CorrectionProposal.objects.filter(claim=OuterRef("pk"), status=ProposalStatus.PENDING)))
        .exclude(Exists(on_agenda))
        .select_related("branch", "operator")
        .prefetch_related(_pending_proposals())
        .order_by("due_on", "registered_at")
    )


def meetings_open() -> QuerySet[Meeting]:
    """Meetings not yet closed, with their secretary, members and items (and each item's
    claim)."""
    return (
        Meeting.objects.filter(closed=False)
        .select_related("secretary")
        .prefetch_related(
            Prefetch("members", queryset=User.objects.order_by("last_name", "first_name", "username")),
            Prefetch("items", queryset=AgendaItem.objects.select_related("claim", "proposal").order_by("id")),
        )
        .order_by("held_on", "id")
    )


def meetings_recent(*, limit: int = 10) -> QuerySet[Meeting]:
    return Meeting.objects.filter(closed=True).order_by("-held_on", "-id")[:limit]


def meeting_get(*, pk: int) -> Meeting:
    """A meeting with everything its page shows; 404 if there is none."""
    meeting = (
        Meeting.objects.select_related("secretary")
        .prefetch_related(
            Prefetch("members", queryset=User.objects.order_by("last_name", "first_name", "username")),
            Prefetch(
                "items",
                queryset=AgendaItem.objects.select_related(
                    "claim", "claim__branch", "claim__citizen", "claim__reason", "proposal",
                    "proposal__proposed_by", "decided_by",
                ).prefetch_related("claim__evidence").order_by("id"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


def meeting_open_get(*, pk: int) -> Meeting:
    meeting = Meeting.objects.filter(pk=pk, closed=False).first()
    if meeting is None:
        raise Http404
    return meeting


def item_get(*, pk: int) -> AgendaItem:
    """An agenda item with its claim and meeting (no access check: callers check the claim)."""
    item = AgendaItem.objects.select_related("claim", "meeting").filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def commission_staff() -> QuerySet[User]:
    """Active holders of a commission role: the people a meeting's members are chosen from."""
    return (
        User.objects.filter(is_active=True, assignments__role__in=COMMISSION_ROLES)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def letter_for_claim(claim: Claim) -> AgendaItem | None:
    """The claim's decided agenda item that has a decision letter (with its meeting), or None.
    The caller serves ``item.letter`` only to someone allowed to see ``claim``."""
    return (
        AgendaItem.objects.filter(claim=claim)
        .exclude(decision="")
        .exclude(letter="")
        .select_related("meeting")
        .order_by("-decided_at", "-id")
        .first()
    )
