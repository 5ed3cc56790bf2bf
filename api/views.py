"""The channel API, v1. One view per operation: parse, call one service or selector, render.

Every call is authenticated as a channel (API key) and, for the citizen's operations, a
citizen (the channel's signed assertion); rate-limited per channel and per citizen; audited;
and every error is RFC 9457 problem details (api.problems)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.gateway import AccountInfo, InvoiceInfo, MeterInfo
from claims import filing
from claims.models import Claim
from claims.wording import registration_message
from core.metrics import AFTER_COMMIT_FAILURES
from core.text import mask_name

from . import selectors, serializers, services
from .auth import ApiPrincipal, ChannelAuthentication, IsChannel, IsCitizen
from .pagination import PAGINATION_PARAMETERS, LinkHeaderCursorPagination, ListCursorPagination
from .problems import Problem, problem_exception_handler, problem_response
from .throttling import ChannelRateThrottle, CitizenRateThrottle

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
PROBLEM = "application/problem+json"


def request_language(request: HttpRequest) -> str:
    """The first language of ``Accept-Language`` the service speaks (az, en, ru; ``en-GB`` is
    en); Azerbaijani, the service's language, when none is."""
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def problems(*codes: int, **schemas: Any) -> dict[Any, Any]:
    """The documented error responses of an operation (``s409=Serializer`` overrides one)."""
    schema = {400: serializers.ValidationProblemSerializer} | {int(k[1:]): v for k, v in schemas.items()}
    described = {
        400: "Invalid input: problem details with `errors` [{field, message}]",
        401: "No, unknown or revoked API key; missing, expired or invalid citizen token",
        403: "The channel (or the citizen) is disabled",
        404: "Not found, or not the citizen's through this channel",
        409: "Conflict with the claim's state",
        415: "Unsupported media type",
        422: "Refused by a business rule",
        429: "Rate limit; see Retry-After",
    }
    return {
        (code, PROBLEM): OpenApiResponse(schema.get(code, serializers.ProblemSerializer), description=described[code])
        for code in codes
    }


class ApiView(APIView):
    """Base of every operation: authentication, throttles, problem details, audit."""

    authentication_classes = [ChannelAuthentication]
    permission_classes = [IsChannel, IsCitizen]
    throttle_classes = [ChannelRateThrottle, CitizenRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    operation = "api"

    def get_exception_handler(self):
        return problem_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication, so that its refusals speak the caller's language too. The
        # locale middleware then answers with Content-Language and Vary: Accept-Language.
        translation.activate(request_language(request._request))
        request._request.LANGUAGE_CODE = translation.get_language()
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        try:
            services.api_call_audit(request=request._request, status=response.status_code, operation=self.operation)
        except Exception:  # work after a commit never changes the answer: logged and counted
            logger.exception("API call audit failed")
            AFTER_COMMIT_FAILURES.labels(work="api_call_audit").inc()
        return response

    @property
    def principal(self) -> ApiPrincipal:
        return self.request.auth  # type: ignore[return-value]


# --- Presenters --------------------------------------------------------------------------------


def _meter(m: MeterInfo) -> dict[str, Any]:
    return {"serial_number": m.serial_number, "seal_number": m.seal_number, "last_reading": m.last_reading,
            "last_reading_on": m.last_reading_on}


def _invoice(i: InvoiceInfo) -> dict[str, Any]:
    return {
        "number": i.number, "period": i.period, "period_start": i.period_start, "period_end": i.period_end,
        "issued_on": i.issued_on, "due_on": i.due_on, "consumption": i.consumption,
        "water_amount": i.water_amount, "sewerage_amount": i.sewerage_amount, "total": i.total,
        "estimated": i.estimated,
        "lines": [{"meter_serial": ln.meter_serial, "previous_reading": ln.previous_reading,
                   "current_reading": ln.current_reading, "consumption": ln.consumption, "estimated": ln.estimated}
                  for ln in i.lines],
    }


def _account(a: AccountInfo) -> dict[str, Any]:
    return {"subscriber_code": a.subscriber_code, "holder_name": a.holder_name, "address": a.address,
            "branch": {"code": a.branch_code, "name": a.branch_name}, "category": a.category,
            "meters": [_meter(m) for m in a.meters]}


def _claim_summary(c: Claim) -> dict[str, Any]:
    return {"number": c.number, "status": c.status, "outcome": c.outcome or None,
            "subscriber_code": c.subscriber_code, "invoice_number": c.invoice_number,
            "registered_at": c.registered_at, "due_on": c.effective_due_on, "closed_at": c.closed_at}


def _event_text(event: Any) -> str:
    # The timeline's sentence in the reader's language where the claims app writes one.
    text = getattr(event, "text", None)
    return str(text) if text else event.note


def _claim_detail(request: Request, c: Claim) -> dict[str, Any]:
    pending = next((r for r in c.info_requests.all() if r.answered_at is None), None)
    letter = selectors.letter_for_claim(c)
    return _claim_summary(c) | {
        "channel": c.channel,
        "channel_label": str(c.get_channel_display()),
        "login_method": c.login_method,
        "language": c.language,
        "registration_message": registration_message(c),
        "reason": {"code": c.reason.code, "text": c.reason.text(translation.get_language() or c.language)},
        "reason_text": c.reason_text,
        "invoice_total": (c.invoice_snapshot or {}).get("total"),
        "meters": [{"meter_serial": e.meter_serial, "seal_number": e.seal_number, "billed_reading": e.billed_reading,
                    "declared_reading": e.declared_reading} for e in c.evidence.all()],
        "corrected_amount": c.corrected_amount,
        "outcome_reason": c.outcome_reason,
        "pending_request": {"question": pending.question, "asked_at": pending.asked_at} if pending else None,
        "timeline": [{"at": e.at, "status": e.status, "kind": e.kind, "text": _event_text(e), "note": e.note}
                     for e in c.events.all()],
        "letter_url": request.build_absolute_uri(reverse("api:claim-letter", args=[c.number])) if letter else None,
    }


def _claim_response(request: Request, claim: Claim, *, status_code: int = 200,
                    headers: dict[str, str] | None = None) -> Response:
    principal: ApiPrincipal = request.auth  # type: ignore[assignment]
    fresh = selectors.claim_get_for_citizen(citizen=principal.citizen, number=claim.number)  # type: ignore[arg-type]
    return Response(serializers.ClaimDetailSerializer(_claim_detail(request, fresh)).data, status=status_code,
                    headers=headers)


# --- Reference data ------------------------------------------------------------------------------------


class ReasonListView(ApiView):
    """The active reason templates; a claim names one by its code."""

    permission_classes = [IsChannel]  # no citizen needed
    operation = "reasons"

    @extend_schema(operation_id="reasons_list", summary="Reason templates, with texts in az, en and ru",
                   parameters=PAGINATION_PARAMETERS,
                   responses={200: serializers.ReasonSerializer(many=True), **problems(400, 401, 403, 429)})
    def get(self, request: Request) -> Response:
        paginator = LinkHeaderCursorPagination(ordering=("ordering", "id"))
        reasons = paginator.page_of(selectors.reasons_active(), request)
        data = [{"code": r.code, "text": r.text(translation.get_language()),
                 "texts": {"az": r.text_az, "en": r.text_en, "ru": r.text_ru},
                 "requires_text": r.requires_text} for r in reasons]
        return paginator.get_paginated_response(serializers.ReasonSerializer(data, many=True).data)


# --- Accounts and invoices -------------------------------------------------------------------------------


def _lookup(request: Request, code: str) -> filing.AccountLookup:
    principal: ApiPrincipal = request.auth  # type: ignore[assignment]
    try:
        return services.account_lookup(citizen=principal.citizen, subscriber_code=code)  # type: ignore[arg-type]
    except filing.LookupLimited as e:
        raise exceptions.Throttled(wait=e.wait, detail=_("Başqalarının hesablarına baxış həddi keçildi.")) from e


class AccountListView(ApiView):
    """The accounts held under the citizen's FIN (the e-su.az way of choosing one)."""

    operation = "accounts"

    @extend_schema(operation_id="accounts_list", summary="The accounts the citizen holds",
                   parameters=PAGINATION_PARAMETERS,
                   responses={200: serializers.AccountSerializer(many=True), **problems(400, 401, 403, 429)})
    def get(self, request: Request) -> Response:
        paginator = ListCursorPagination()
        accounts = paginator.page_list(selectors.accounts_of_citizen(citizen=self.principal.citizen),  # type: ignore[arg-type]
                                       request, key=lambda a: a.subscriber_code)
        return paginator.get_paginated_response(
            serializers.AccountSerializer([_account(a) for a in accounts], many=True).data)


class AccountDetailView(ApiView):
    operation = "account"

    @extend_schema(
        operation_id="accounts_retrieve", summary="An account by subscriber code",
        description="Full data for an account the citizen holds. For any other account only the masked holder "
                    "name and the invoices (numbers, periods, readings, amounts); such look-ups are limited per "
                    "citizen and hour (429).",
        responses={200: serializers.AccountDetailSerializer, **problems(401, 403, 404, 429)},
    )
    def get(self, request: Request, subscriber_code: str) -> Response:
        found = _lookup(request, subscriber_code)
        a = found.account
        invoices = filing.invoices_recent(subscriber_code=a.subscriber_code)
        data: dict[str, Any] = {
            "subscriber_code": a.subscriber_code, "holds": found.holds,
            "holder_name": a.holder_name if found.holds else mask_name(a.holder_name),
            "address": None, "branch": None, "category": None, "meters": None,
            "invoices": [_invoice(i) for i in invoices],
        }
        if found.holds:
            data.update({k: v for k, v in _account(a).items() if k in ("address", "branch", "category", "meters")})
        return Response(serializers.AccountDetailSerializer(data).data)


class AccountInvoicesView(ApiView):
    """The invoices a claim may dispute: numbers, periods, readings, amounts."""

    operation = "account_invoices"

    @extend_schema(operation_id="accounts_invoices_list", summary="The account's invoices of the last 12 months",
                   description="Newest first.", parameters=PAGINATION_PARAMETERS,
                   responses={200: serializers.InvoiceSerializer(many=True), **problems(400, 401, 403, 404, 429)})
    def get(self, request: Request, subscriber_code: str) -> Response:
        found = _lookup(request, subscriber_code)
        paginator = ListCursorPagination()
        invoices = paginator.page_list(filing.invoices_recent(subscriber_code=found.account.subscriber_code),
                                       request, key=lambda i: f"{i.period.isoformat()}|{i.number}", descending=True)
        return paginator.get_paginated_response(
            serializers.InvoiceSerializer([_invoice(i) for i in invoices], many=True).data)


class InvoiceMetersView(ApiView):
    operation = "invoice_meters"

    @extend_schema(operation_id="accounts_invoices_meters_list",
                   summary="The meters on an invoice: serial, seal, last reading, billed readings",
                   description="Each of these needs a reading (`reading[<serial_number>]`, or its entry in "
                               "`readings`) and a `photo[<serial_number>]` when a claim is filed on the invoice.",
                   parameters=PAGINATION_PARAMETERS,
                   responses={200: serializers.InvoiceMeterSerializer(many=True), **problems(400, 401, 403, 404, 429)})
    def get(self, request: Request, subscriber_code: str, invoice_number: str) -> Response:
        found = _lookup(request, subscriber_code)
        invoice = selectors.invoice_recent_get(subscriber_code=found.account.subscriber_code, number=invoice_number)
        lines = {ln.meter_serial: ln for ln in invoice.lines}
        paginator = ListCursorPagination()
        meters = paginator.page_list(filing.meters_of_invoice(account=found.account, invoice=invoice), request,
                                     key=lambda m: m.serial_number)
        data = [
            _meter(m) | {"billed_previous_reading": lines[m.serial_number].previous_reading,
                         "billed_current_reading": lines[m.serial_number].current_reading,
                         "estimated": lines[m.serial_number].estimated}
            for m in meters
        ]
        return paginator.get_paginated_response(serializers.InvoiceMeterSerializer(data, many=True).data)


# --- Claims ---------------------------------------------------------------------------------------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, pattern=IDEMPOTENCY_KEY_RE.pattern,
    description="A key the channel chooses per claim (a UUID is best). Repeating the request with the same key "
                "returns the first claim (200, `Idempotent-Replayed: true`) and never files a second one.",
)

CLAIM_CREATE_DESCRIPTION = """
File a claim for the citizen on one of an account's invoices of the last 12 months.

`multipart/form-data` with the fields below plus, **for every meter on the invoice**
(`GET /accounts/{code}/invoices/{number}/meters/`):

- `reading[<serial_number>]`: the meter's reading today, an integer (m³);
- `photo[<serial_number>]`: a photo of the meter showing it (jpg, jpeg, png or pdf, at most
  PHOTO_MAX_BYTES).

Answers 201 with the claim and a `Location`; a repeat with the same `Idempotency-Key` answers 200
with the same claim and `Idempotent-Replayed: true`; 409 `open-claim-exists` (with `claim_number`)
when the invoice already has an open claim; 400 `validation-error` with field errors; 422
`idempotency-key-reused` when the key was used for a different request.
"""


class ClaimListCreateView(ApiView):
    """The citizen's claims, whichever channel filed them, newest first."""

    operation = "claims"

    def get_parsers(self) -> list[BaseParser]:
        # DRF's schema generator sets view.request to None, whatever the stubs say.
        request: Request | None = self.request
        if request is not None and request.method == "POST":
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(operation_id="claims_list", summary="The citizen's claims, whichever channel filed them",
                   description="Newest first: every claim of the citizen in the token, filed through any channel "
                               "or on the portal.",
                   parameters=PAGINATION_PARAMETERS,
                   responses={200: serializers.ClaimSummarySerializer(many=True), **problems(400, 401, 403, 429)})
    def get(self, request: Request) -> Response:
        paginator = LinkHeaderCursorPagination(ordering=("-registered_at", "-id"))
        claims = paginator.page_of(selectors.claims_of_citizen(citizen=self.principal.citizen), request)  # type: ignore[arg-type]
        return paginator.get_paginated_response(
            serializers.ClaimSummarySerializer([_claim_summary(c) for c in claims], many=True).data)

    @extend_schema(
        operation_id="claims_create", summary="File a claim", description=CLAIM_CREATE_DESCRIPTION,
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter("Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201],
                             description="The claim's URL"),
            OpenApiParameter("Idempotent-Replayed", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
                             enum=["true"], description="This answer repeats the first request's claim"),
        ],
        request={"multipart/form-data": OpenApiRequest(serializers.ClaimCreateSerializer,
                                                       encoding={"readings": {"contentType": "application/json"}})},
        responses={
            201: OpenApiResponse(serializers.ClaimDetailSerializer,
                                 description="Filed; `registration_message` is the text to show the citizen"),
            200: OpenApiResponse(serializers.ClaimDetailSerializer, description="A repeat: the first claim"),
            (422, PROBLEM): OpenApiResponse(serializers.ClaimProblemSerializer,
                                            description="The Idempotency-Key was used for another request, or a "
                                                        "business rule refused the claim"),
            **problems(400, 401, 403, 404, 409, 415, 429, s409=serializers.OpenClaimProblemSerializer),
        },
    )
    def post(self, request: Request) -> Response:
        principal = self.principal
        key = request.headers.get("Idempotency-Key", "").strip()
        if not IDEMPOTENCY_KEY_RE.fullmatch(key):
            raise exceptions.ValidationError({"Idempotency-Key": [
                _("Tələb olunur: A-Z a-z 0-9 . _ : - simvollarından 1-64 simvol (ən yaxşısı UUID).")]})
        fingerprint = services.api_request_fingerprint(request.data)
        try:
            replay = services.api_claim_replay(channel=principal.channel, citizen=principal.citizen,  # type: ignore[arg-type]
                                               key=key, fingerprint=fingerprint)
        except services.IdempotencyKeyReused as e:
            raise _reused(e) from e
        if replay is not None:
            return _claim_response(request, replay, headers={"Idempotent-Replayed": "true"})

        serializer = serializers.ClaimCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:  # a refusal (core.errors.ServiceError) becomes problem details in api.problems
            # The answer is read inside the filing's transaction: once the claim is committed
            # nothing else can fail the request (the call's audit after it is logged and counted).
            with transaction.atomic():
                claim, created = services.api_claim_file(
                    channel=principal.channel, citizen=principal.citizen,  # type: ignore[arg-type]
                    login_method=principal.login_method, idempotency_key=key, fingerprint=fingerprint,
                    **serializer.validated_data,
                )
                if not created:
                    return _claim_response(request, claim, headers={"Idempotent-Replayed": "true"})
                location = reverse("api:claim-detail", args=[claim.number])
                return _claim_response(request, claim, status_code=status.HTTP_201_CREATED,
                                       headers={"Location": location})
        except services.IdempotencyKeyReused as e:
            raise _reused(e) from e


def _reused(e: services.IdempotencyKeyReused) -> Problem:
    return Problem(status_code=422, slug="idempotency-key-reused", claim_number=e.number,
                   detail=_("Bu Idempotency-Key ilə başqa sorğudan müraciət artıq göndərilib; yeni açar "
                            "istifadə edin."))


class ClaimDetailView(ApiView):
    """The claim as the citizen's status page shows it: public timeline, outcome, corrected amount, the
    operator's open question, a link to the decision letter."""

    operation = "claim"

    @extend_schema(operation_id="claims_retrieve",
                   summary="A claim with its timeline, outcome, corrected amount and decision letter",
                   responses={200: serializers.ClaimDetailSerializer, **problems(401, 403, 404, 429)})
    def get(self, request: Request, number: str) -> Response:
        claim = selectors.claim_get_for_citizen(citizen=self.principal.citizen, number=number)  # type: ignore[arg-type]
        return Response(serializers.ClaimDetailSerializer(_claim_detail(request, claim)).data)


class ClaimAnswerView(ApiView):
    """multipart/form-data with `text` and/or `photo`; the claim goes back to its operator. 409 when no
    question is pending."""

    operation = "claim_answer"
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="claims_answer", summary="Answer the operator's information request (text and/or photo)",
        request={"multipart/form-data": serializers.ClaimAnswerSerializer},
        responses={200: serializers.ClaimDetailSerializer, **problems(400, 401, 403, 404, 409, 415, 429)},
    )
    def post(self, request: Request, number: str) -> Response:
        claim = selectors.claim_get_for_citizen(citizen=self.principal.citizen, number=number)  # type: ignore[arg-type]
        serializer = serializers.ClaimAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.api_claim_answer(claim=claim, citizen=self.principal.citizen,  # type: ignore[arg-type]
                                  text=serializer.validated_data["text"],
                                  photo=serializer.validated_data.get("photo"))
        return _claim_response(request, claim)


class ClaimWithdrawView(ApiView):
    """The citizen withdraws the claim; 409 once it is closed or withdrawn."""

    operation = "claim_withdraw"
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(operation_id="claims_withdraw", summary="Withdraw a claim that is not yet closed", request=None,
                   responses={200: serializers.ClaimDetailSerializer, **problems(401, 403, 404, 409, 429)})
    def post(self, request: Request, number: str) -> Response:
        claim = selectors.claim_get_for_citizen(citizen=self.principal.citizen, number=number)  # type: ignore[arg-type]
        services.api_claim_withdraw(claim=claim, citizen=self.principal.citizen)  # type: ignore[arg-type]
        return _claim_response(request, claim)


class _JsonOnly(BaseContentNegotiation):
    """The letter is a PDF whatever the Accept header; its errors are problem details."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        renderer = list(renderers)[0]
        return renderer, renderer.media_type


class ClaimLetterView(ApiView):
    """The decision letter PDF; 404 until the commission has decided."""

    operation = "claim_letter"
    content_negotiation_class = _JsonOnly

    @extend_schema(operation_id="claims_letter", summary="The commission's decision letter (PDF)",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **problems(401, 403, 404, 429)})
    def get(self, request: Request, number: str) -> FileResponse:
        claim = selectors.claim_get_for_citizen(citizen=self.principal.citizen, number=number)  # type: ignore[arg-type]
        item = selectors.letter_for_claim(claim)
        if item is None:
            raise Http404
        return FileResponse(item.letter.open("rb"), content_type="application/pdf", filename=f"{claim.number}.pdf")


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
    """Any other path under /api/: a problem, not the portal's HTML 404."""
    translation.activate(request_language(request))
    response = problem_response(request=request, status_code=404, slug="not-found", detail=_("Belə əməliyyat yoxdur."))
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = PROBLEM
    response.renderer_context = {}  # type: ignore[attr-defined]  # read by render(); the stubs omit it
    return response.render()
