"""Factories of people and claims for every app's tests.

Staff are users with their ``StaffAssignment`` rows::

    StaffFactory(operator=True, branch=branch)            # an operator of the branch
    StaffFactory(manager=True, branch=branch)             # its manager
    StaffFactory(inspector=True, branch=branch)
    StaffFactory(secretary=True)                          # commission roles have no branch
    StaffFactory(member=True)
    StaffFactory(administrator=True)
    StaffFactory(operator=True, branch=branch, extra_roles=[Role.COMMISSION_MEMBER])

A claim is brought to each state of its life cycle THROUGH the real services (registration,
take, request, inspection, proposal, agenda, decision, withdrawal), so the state is one the
product really reaches, with its timeline, audit entries and notifications::

    ClaimFactory()                                  # forwarded to the branch's operator
    ClaimFactory(in_review=True)                    # taken by the operator
    ClaimFactory(awaiting_citizen=True)             # the operator asked the citizen
    ClaimFactory(inspection=True)                   # a visit is scheduled
    ClaimFactory(at_commission=True)                # a correction is proposed
    ClaimFactory(on_agenda=True)                    # ... and on an open meeting's agenda
    ClaimFactory(closed_refused=True)               # the operator closed it: no correction due
    ClaimFactory(refused_by_commission=True)        # the commission refused the correction
    ClaimFactory(posting=True)                      # the commission approved it; billing has not confirmed
    ClaimFactory(closed_corrected=True)             # ... and billing booked the correction
    ClaimFactory(withdrawn=True)                    # the citizen withdrew it (from forwarded)
    ClaimFactory(withdrawn=True, withdrawn_from="inspection")
    ClaimFactory(at_commission=True, visited=True)  # an inspection was recorded on the way

Who acts is a parameter (``citizen``, ``account``, ``operator``, ``manager``, ``inspector``,
``secretary``, ``member``, ``proposer``, ``meeting``); whoever is not given is found (the
operator the claim was routed to, the branch's manager, inspector, the commission's secretary)
or made. An explicit ``operator`` other than the one routing chose gets the claim by the
branch manager's reassignment; a ``proposer`` other than the operator is handed the claim for
the proposal and the claim is handed back. The claims' billing accounts come from the root
conftest's ``make_account`` (a new account per claim unless ``account`` is given).
"""

from __future__ import annotations

import importlib
import io
import itertools
from datetime import date
from typing import Any

import factory
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from PIL import Image

from billing import models as b
from billing.gateway import get_gateway
from claims import services as claim_services
from claims.deadlines import WorkingCalendar
from claims.evidence import photo_store
from claims.models import Channel, Claim, ReasonTemplate
from commission import services as commission_services
from commission.models import AgendaItem, Meeting
from identity import roles
from identity.models import Role, StaffAssignment, User
from inspections import services as inspection_services
from inspections.models import Inspection, SealState, VisitWindow

PASSWORD = "demo-pass-2026"  # noqa: S105 - every test user's password, as the demo data has it
DECLARED_LESS = 200  # the citizen's meter shows 200 m³ less than the invoice billed (make_account)

STAGES = ("forwarded", "in_review", "awaiting_citizen", "inspection", "at_commission", "on_agenda",
          "closed_refused", "refused_by_commission", "posting", "closed_corrected", "withdrawn")


# --- Seed rows and files -----------------------------------------------------------------------

def ensure_seed_rows() -> None:
    """The rows of the data migrations claims need (reason and notification templates,
    tariffs, the consent text). A transactional test elsewhere in the suite may have flushed them."""
    from billing.models import Tariff
    from claims.models import ConsentText
    from notifications.models import NotificationTemplate

    if not ConsentText.objects.exists():
        importlib.import_module("claims.migrations.0007_consent_text_v1").publish(apps, None)

    if not ReasonTemplate.objects.exists():
        importlib.import_module("claims.migrations.0003_reason_templates").load(apps, None)
    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
        importlib.import_module("notifications.migrations.0005_law_rules_events").load(apps, None)
        importlib.import_module("notifications.migrations.0006_plain_outcome").forwards(apps, None)
    if not Tariff.objects.exists():
        importlib.import_module("billing.migrations.0002_tariffs").seed_tariffs(apps, None)


def jpeg_upload(name: str = "sayğac.jpg") -> SimpleUploadedFile:
    """A small JPEG as a browser uploads it."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def stored_photo() -> tuple[str, str]:
    """(path, content type) of a photo validated and stored as the forms store one."""
    photo = photo_store(jpeg_upload())
    return photo.path, photo.content_type


def next_working_day(n: int = 1, start: date | None = None) -> date:
    return WorkingCalendar().add_working_days(start or timezone.localdate(), n)


# --- People ----------------------------------------------------------------------------------------

class CitizenFactory(DjangoModelFactory):
    """A citizen as the identity providers leave one: a FIN, no usable password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    fin = factory.Sequence(lambda n: f"9T{n:05d}")
    username = factory.LazyAttribute(lambda o: f"citizen-{o.fin}")
    first_name = "Aysel"
    last_name = factory.Sequence(lambda n: f"Vətəndaş{n}")

    @factory.post_generation
    def unusable_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        obj.set_unusable_password()
        if create:
            obj.save(update_fields=["password"])


class StaffFactory(DjangoModelFactory):
    """A staff member holding ``role`` (at ``branch`` for the branch roles) and any
    ``extra_roles`` (at the same branch when they are branch roles)."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staff-{n}")
    first_name = factory.Sequence(lambda n: f"İşçi{n}")
    last_name = "Testov"
    password = factory.django.Password(PASSWORD)
    role: Any = None
    branch: Any = None
    extra_roles: Any = ()

    class Params:
        operator = factory.Trait(role=Role.OPERATOR)
        inspector = factory.Trait(role=Role.INSPECTOR)
        manager = factory.Trait(role=Role.BRANCH_MANAGER)
        secretary = factory.Trait(role=Role.COMMISSION_SECRETARY)
        member = factory.Trait(role=Role.COMMISSION_MEMBER)
        administrator = factory.Trait(role=Role.ADMINISTRATOR)

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, role: str | None = None, branch: b.Branch | None = None,
                extra_roles: Any = (), **kwargs: Any) -> User:
        user = super()._create(model_class, *args, **kwargs)
        for r in ([role] if role else []) + list(extra_roles):
            StaffAssignment.objects.create(user=user, role=r, branch=branch if r in roles.BRANCH_ROLES else None)
        roles.forget(user)
        return user


def staff_with(role: str, branch: b.Branch | None = None) -> User | None:
    """The first active staff member (lowest id) holding ``role`` (at ``branch``)."""
    qs = User.objects.filter(is_active=True, assignments__role=role)
    if branch is not None:
        qs = qs.filter(assignments__branch=branch)
    return qs.order_by("id").first()


# --- Claims ---------------------------------------------------------------------------------------------

_account_numbers = itertools.count(1)


def account_for(citizen: User, branch: b.Branch, *, meters: int = 1) -> b.Account:
    """A new billing account of ``citizen`` in ``branch`` (the root conftest's ``make_account``:
    monthly invoices up to last month, the latest billing 200 m³ above the meter)."""
    from conftest import make_account  # the root conftest: the suite's one billing world

    while True:
        code = f"77{next(_account_numbers):08d}"
        if not (b.Account.objects.filter(subscriber_code=code).exists()
                or b.Invoice.objects.filter(number__endswith=code[-6:]).exists()):
            break
    return make_account(code=code, branch=branch, holder_fin=citizen.fin or "", holder_name=citizen.display_name,
                        meters=meters)


def default_branch() -> b.Branch:
    branch, _created = b.Branch.objects.get_or_create(
        code="BAK-YAS", defaults={"name": "Yasamal rayon idarəsi", "region": "Bakı, Yasamal r.",
                                  "zone": b.TariffZone.BAKU_AREA})
    return branch


def register(citizen: User, account: b.Account, *, key: str, channel: str = Channel.PORTAL, language: str = "az",
             reason_code: str = "misread", reason_text: str = "", invoice: Any = None) -> Claim:
    """File a claim for ``invoice`` (default: the account's latest) as the portal does, declaring the meter's
    real register (200 m³ below the bill) with a photo of each meter."""
    ensure_seed_rows()
    gw = get_gateway()
    acc = gw.account_by_code(account.subscriber_code)
    inv = invoice or gw.invoices_of_account(account.subscriber_code)[0]
    meters = []
    for line in inv.lines:
        path, content_type = stored_photo()
        meters.append(claim_services.MeterDeclaration(
            meter_serial=line.meter_serial, seal_number=line.seal_number, billed_reading=line.current_reading,
            declared_reading=line.current_reading - DECLARED_LESS, photo_path=path, photo_content_type=content_type))
    assert acc is not None
    return claim_services.claim_register(
        citizen=citizen, account=acc, invoice=inv, reason=ReasonTemplate.objects.get(code=reason_code),
        reason_text=reason_text, meters=meters, phone="+994501234567", email="resad@example.az", comment="",
        language=language, login_method="asan_signature", channel=channel, submission_key=key, consent=True,
    )


def true_readings(claim: Claim) -> dict[str, int]:
    """The meters' real registers (what the citizen declared): a correction that differs."""
    return {ev.meter_serial: ev.declared_reading for ev in claim.evidence.all()}


def latest_visit(claim: Claim) -> Inspection | None:
    return claim.inspections.order_by("-id").first()


def latest_item(claim: Claim) -> AgendaItem | None:
    return AgendaItem.objects.filter(claim=claim).select_related("meeting", "proposal").order_by("-id").first()


_protocols = itertools.count(1)


def deliver_posting(item: AgendaItem) -> None:
    """What the posting worker does once the decision has committed: the approved adjustment
    is posted through the configured billing gateway and the claim closes as corrected."""
    from billing.models import Posting
    from billing.services import posting_send

    item.refresh_from_db()
    posting_send(posting_id=Posting.objects.get(reference=item.adjustment_reference).pk)


def open_meeting(*, secretary: User, members: list[User], held_on: date | None = None) -> Meeting:
    while True:
        number = f"TK-{next(_protocols)}"
        if not Meeting.objects.filter(protocol_number=number).exists():
            break
    return commission_services.meeting_open(actor=secretary, held_on=held_on or timezone.localdate(),
                                            protocol_number=number, members=members)


class _Cast:
    """Whoever the steps need, found or made once per claim."""

    def __init__(self, claim: Claim, params: dict[str, Any]):
        self.claim, self.params = claim, params
        self.branch = claim.branch

    def _get(self, name: str, find: Any, make: Any) -> User:
        user = self.params.get(name)
        if user is None:
            user = find() or make()
            self.params[name] = user
        return user

    @property
    def manager(self) -> User:
        return self._get("manager", lambda: staff_with(Role.BRANCH_MANAGER, self.branch)
                         or staff_with(Role.ADMINISTRATOR),
                         lambda: StaffFactory(manager=True, branch=self.branch))

    @property
    def inspector(self) -> User:
        return self._get("inspector", lambda: staff_with(Role.INSPECTOR, self.branch),
                         lambda: StaffFactory(inspector=True, branch=self.branch))

    @property
    def secretary(self) -> User:
        return self._get("secretary", lambda: staff_with(Role.COMMISSION_SECRETARY),
                         lambda: StaffFactory(secretary=True))

    @property
    def member(self) -> User:
        return self._get("member", lambda: None, lambda: StaffFactory(member=True))


class ClaimFactory(factory.Factory):
    """A claim brought to ``stage`` through the real services (see the module's docstring)."""

    class Meta:
        model = Claim

    stage = "forwarded"
    citizen: Any = None
    branch: Any = None
    account: Any = None
    meters = 1
    operator: Any = None
    manager: Any = None
    inspector: Any = None
    secretary: Any = None
    member: Any = None
    proposer: Any = None
    meeting: Any = None
    visited = False
    withdrawn_from = "forwarded"
    channel = Channel.PORTAL
    language = "az"
    key = factory.Sequence(lambda n: f"factory-{n}")

    class Params:
        forwarded = factory.Trait(stage="forwarded")
        in_review = factory.Trait(stage="in_review")
        awaiting_citizen = factory.Trait(stage="awaiting_citizen")
        inspection = factory.Trait(stage="inspection")
        at_commission = factory.Trait(stage="at_commission")
        on_agenda = factory.Trait(stage="on_agenda")
        closed_refused = factory.Trait(stage="closed_refused")
        refused_by_commission = factory.Trait(stage="refused_by_commission")
        posting = factory.Trait(stage="posting")
        closed_corrected = factory.Trait(stage="closed_corrected")
        withdrawn = factory.Trait(stage="withdrawn")

    @classmethod
    def _build(cls, model_class: type[Claim], *args: Any, **kwargs: Any) -> Claim:
        raise TypeError("ClaimFactory only creates: a claim's state is reached through the services")

    @classmethod
    def _create(cls, model_class: type[Claim], *args: Any, stage: str, key: str, **params: Any) -> Claim:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
        citizen, account = params["citizen"], params["account"]
        if account is not None:
            citizen = citizen or User.objects.filter(fin=account.holder_fin).first()
        citizen = citizen or CitizenFactory()
        if account is None:
            account = account_for(citizen, params["branch"] or default_branch(), meters=params["meters"])
        claim = register(citizen, account, key=key, channel=params["channel"], language=params["language"])
        cast = _Cast(claim, params)
        claim = cls._assign(claim, cast)
        if stage == "withdrawn":
            claim = cls._drive(claim, params["withdrawn_from"], cast)
            claim = claim_services.claim_withdraw(claim=claim, actor=citizen)
        else:
            claim = cls._drive(claim, stage, cast)
        return Claim.objects.get(pk=claim.pk)

    @staticmethod
    def _assign(claim: Claim, cast: _Cast) -> Claim:
        """The claim's operator: the one asked for (handed the claim by the branch manager if
        routing chose another), the one routing chose, or a new operator of the branch."""
        wanted = cast.params["operator"]
        if wanted is not None and claim.operator_id not in (None, wanted.pk):
            claim = claim_services.claim_reassign(claim=claim, actor=cast.manager, operator=wanted)
        if wanted is None:
            wanted = claim.operator or StaffFactory(operator=True, branch=cast.branch)
        cast.params["operator"] = wanted
        return claim

    @classmethod
    def _drive(cls, claim: Claim, stage: str, cast: _Cast) -> Claim:
        op: User = cast.params["operator"]
        if stage == "forwarded":
            return claim
        claim = claim_services.claim_take(claim=claim, actor=op)
        if cast.params["visited"]:
            visit = inspection_services.inspection_order(claim=claim, actor=op, inspector=cast.inspector,
                                                         visit_on=next_working_day(), window=VisitWindow.MORNING)
            path, content_type = stored_photo()
            inspection_services.inspection_record_result(
                inspection=visit, actor=cast.inspector, readings=true_readings(claim), seal_state=SealState.INTACT,
                note="Sayğac yoxlanıldı.", photo_path=path, photo_content_type=content_type)
        if stage == "in_review":
            return claim
        if stage == "awaiting_citizen":
            return claim_services.claim_request_info(claim=claim, actor=op,
                                                     question="Sayğacın yaxından çəkilmiş şəklini göndərin.")
        if stage == "inspection":
            inspection_services.inspection_order(claim=claim, actor=op, inspector=cast.inspector,
                                                 visit_on=next_working_day(), window=VisitWindow.MORNING)
            return claim
        if stage == "closed_refused":
            return claim_services.claim_close_no_correction(
                claim=claim, actor=op, explanation="Göstərici düzgün oxunub; düzəliş tələb olunmur.")
        cls._propose(claim, cast)
        if stage == "at_commission":
            return claim
        meeting = cast.params["meeting"]
        if meeting is None:
            meeting = open_meeting(secretary=cast.secretary, members=[cast.secretary, cast.member])
            cast.params["meeting"] = meeting
        item = commission_services.agenda_add(meeting=meeting, actor=cast.secretary, claim=claim)
        if stage == "on_agenda":
            return claim
        decider = cast.member if meeting.members.filter(pk=cast.member.pk).exists() else cast.secretary
        if stage in ("posting", "closed_corrected"):
            commission_services.decision_approve(item=item, actor=decider)
            if stage == "closed_corrected":
                deliver_posting(item)
        else:  # refused_by_commission
            commission_services.decision_refuse(item=item, actor=decider,
                                                reason="Şəkildəki göstərici fakturadakı ilə eynidir.")
        return claim

    @staticmethod
    def _propose(claim: Claim, cast: _Cast) -> None:
        op: User = cast.params["operator"]
        proposer: User = cast.params["proposer"] or op
        if proposer.pk != op.pk and roles.holds_at(proposer, Role.OPERATOR, claim.branch_id):
            # The proposer was the claim's operator when he proposed; the claim went back to
            # its operator afterwards (a holiday, a new distribution of the work).
            claim = claim_services.claim_reassign(claim=claim, actor=cast.manager, operator=proposer)
            claim_services.claim_propose_correction(claim=claim, actor=proposer, readings=true_readings(claim),
                                                    note="Faktura sayğacın göstəricisindən çox hesablanıb.")
            claim_services.claim_reassign(claim=claim, actor=cast.manager, operator=op)
            return
        claim_services.claim_propose_correction(claim=claim, actor=proposer, readings=true_readings(claim),
                                                note="Faktura sayğacın göstəricisindən çox hesablanıb.")

