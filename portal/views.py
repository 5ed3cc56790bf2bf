"""The citizen's pages: home, the filing flow (account, invoice, details, review,
registration) and the status pages. Views are thin: they parse input, call one service or
selector, and render."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.gateway import AccountInfo, BillingError, InvoiceInfo, MeterInfo, get_gateway
from claims import filing, selectors
from claims.evidence import PhotoDrafts, PhotoRejected, StoredPhoto
from claims.models import Channel
from claims.outcome import outcome_sentences
from claims.pseudonyms import fin_key
from claims.readings import reading_warnings
from claims.services import DuplicateOpenClaim, claim_answer_info, claim_withdraw, consent_text_current
from claims.transitions import ClaimOutcome
from claims.wording import registration_message
from commission.letters import ending_event, ending_letter_pdf
from commission.selectors import letter_for_claim
from core.errors import ServiceError, form_add_error
from core.security import evidence_response
from core.text import mask_name
from identity.decorators import AuthenticatedRequest
from identity.services import session_login_method

from .draft import Draft
from .forms import AccountCheckForm, AccountPickForm, AnswerForm, DetailsForm, InvoicePickForm, ReviewForm

# Endings whose letter the commission stored at its decision (with the balance billing gave then).
COMMISSION_ENDINGS = {"approve", "refuse", "confirm_posting"}


def _language() -> str:
    return (get_language() or "az")[:2]


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def account_step(request: AuthenticatedRequest) -> HttpResponse:
    gateway = get_gateway()
    held = gateway.accounts_of_fin(request.user.fin) if request.user.fin else []
    pick_form = AccountPickForm(accounts=held)
    check_form = AccountCheckForm()
    if request.method == "POST":
        if request.POST.get("action") == "pick":
            pick_form = AccountPickForm(request.POST, accounts=held)
            if pick_form.is_valid():
                Draft.start(request, subscriber_code=pick_form.cleaned_data["account"])
                return redirect("portal:claim_invoice")
        else:
            check_form = AccountCheckForm(request.POST)
            if check_form.is_valid():
                code = check_form.cleaned_data["subscriber_code"]
                try:  # each check counts: the citizen asks again
                    filing.account_look_up(citizen=request.user, subscriber_code=code, recount=True)
                except ServiceError as exc:  # over the look-up budget, or no such account
                    form_add_error(check_form, exc)
                else:
                    Draft.start(request, subscriber_code=code)
                    return redirect("portal:claim_invoice")
    return render(request, "portal/account.html", {
        "held": held, "pick_form": pick_form, "check_form": check_form,
        "form": pick_form if pick_form.errors else check_form,
    })


def _draft_account(request: HttpRequest, draft: Draft) -> AccountInfo | None:
    code = draft.get("subscriber_code")
    return get_gateway().account_by_code(code) if code else None


@login_required
def invoice_step(request: AuthenticatedRequest) -> HttpResponse:
    draft = Draft(request)
    account = _draft_account(request, draft)
    if account is None:
        return redirect("portal:claim_new")
    invoices = filing.invoices_recent(subscriber_code=account.subscriber_code)
    form = InvoicePickForm(request.POST if request.method == "POST" else None, invoices=invoices,
                           initial={"invoice": draft.get("invoice_number")})
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["invoice"]
        existing = selectors.claim_open_for_invoice(invoice_number=number)
        if existing is not None:
            form.add_error("invoice", DuplicateOpenClaim(existing.number).args[0])
        else:
            if number != draft.get("invoice_number"):
                draft.update(invoice_number=number, meters={})
            return redirect("portal:claim_details")
    holds = filing.citizen_holds(citizen=request.user, account=account)
    return render(request, "portal/invoice.html", {
        "account": account, "holds": holds,
        "holder_name": account.holder_name if holds else mask_name(account.holder_name),
        "invoices": invoices, "form": form,
    })


def _draft_invoice(draft: Draft) -> InvoiceInfo | None:
    number = draft.get("invoice_number")
    invoice = get_gateway().invoice(number) if number else None
    if invoice is None or invoice.subscriber_code != draft.get("subscriber_code"):
        return None
    return invoice


def _kept_photo(entry: dict) -> StoredPhoto | None:
    """A meter's photo kept in the draft (the session), if any."""
    if not entry.get("photo_path"):
        return None
    return StoredPhoto(path=entry["photo_path"], content_type=entry["photo_content_type"],
                       original_name=entry.get("photo_name", ""))


def _meter_inputs(draft: Draft, meters: list[MeterInfo]) -> tuple[dict[str, int], dict[str, StoredPhoto]]:
    """The draft's readings and kept photos of the invoice's meters, by serial, as
    claims.filing takes them."""
    stored = draft.get("meters") or {}
    entries = {m.serial_number: stored.get(m.serial_number) or {} for m in meters}
    readings = {serial: e["declared_reading"] for serial, e in entries.items() if e.get("declared_reading") is not None}
    photos = {serial: photo for serial, e in entries.items() if (photo := _kept_photo(e)) is not None}
    return readings, photos


@login_required
def details_step(request: AuthenticatedRequest) -> HttpResponse:
    draft = Draft(request)
    account = _draft_account(request, draft)
    invoice = _draft_invoice(draft) if account else None
    if account is None or invoice is None:
        return redirect("portal:claim_new")
    meters = filing.meters_of_invoice(account=account, invoice=invoice)
    stored = dict(draft.get("meters") or {})
    initial = {"reason": draft.get("reason_id"), "reason_text": draft.get("reason_text", ""),
               "phone": draft.get("phone_input", ""), "email": draft.get("email", ""),
               "comment": draft.get("comment", "")}
    for i, m in enumerate(meters):
        initial[f"reading_{i}"] = (stored.get(m.serial_number) or {}).get("declared_reading")
    posted = request.method == "POST"
    form = DetailsForm(request.POST if posted else None, request.FILES if posted else None, meters=meters,
                       reasons=selectors.reasons_active(), stored_photos=stored, language=_language(), initial=initial)
    if posted:
        valid = form.is_valid()
        # Keep every good photo even when another field is wrong: no forced re-upload.
        drafts = PhotoDrafts()
        for i, m in enumerate(meters):
            entry = dict(stored.get(m.serial_number) or {})
            try:
                photo = drafts.put(request.FILES.get(f"photo_{i}"), kept=entry.get("photo_path", ""),
                                   missing=_("Sayğac %(serial)s: göstəricinin göründüyü şəkli yükləyin.")
                                   % {"serial": m.serial_number})
            except PhotoRejected as exc:
                form.add_error(f"photo_{i}", str(exc))
                valid = False
            else:
                if photo is not None:
                    entry.update(photo_path=photo.path, photo_content_type=photo.content_type,
                                 photo_name=photo.original_name)
            if form.cleaned_data.get(f"reading_{i}") is not None:
                entry["declared_reading"] = form.cleaned_data[f"reading_{i}"]
            stored[m.serial_number] = entry
        form.stored_photos = stored
        # Everything typed is kept in the draft, valid or not, so nothing is lost.
        draft.update(meters=stored, reason_text=request.POST.get("reason_text", ""),
                     phone_input=request.POST.get("phone", ""), email=request.POST.get("email", ""),
                     comment=request.POST.get("comment", ""),
                     reason_id=picked.pk if (picked := form.cleaned_data.get("reason")) else None)
        if valid:
            draft.update(phone=form.cleaned_data["phone"], email=form.cleaned_data["email"])
            return redirect("portal:claim_review")
    return render(request, "portal/details.html", {"account": account, "invoice": invoice, "form": form})


@login_required
def draft_photo(request: AuthenticatedRequest, serial: str) -> FileResponse:
    entry = (Draft(request).get("meters") or {}).get(serial) or {}
    if not entry.get("photo_path"):
        raise Http404
    return evidence_response(default_storage.open(entry["photo_path"], "rb"), content_type=entry["photo_content_type"],
                             name=f"draft-{serial}")


@login_required
def review_step(request: AuthenticatedRequest) -> HttpResponse:
    draft = Draft(request)
    account = _draft_account(request, draft)
    invoice = _draft_invoice(draft) if account else None
    if account is None or invoice is None:
        return redirect("portal:claim_new")
    meters = filing.meters_of_invoice(account=account, invoice=invoice)
    stored = draft.get("meters") or {}
    readings, photos = _meter_inputs(draft, meters)
    reason = selectors.reasons_active().filter(pk=draft.get("reason_id")).first()
    if reason is None or not draft.has_details or filing.meter_input_errors(meters=meters, readings=readings,
                                                                            photos=photos):
        return redirect("portal:claim_details")
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect("portal:claim_details")
        if form.is_valid():
            try:
                claim = filing.claim_file(
                    citizen=request.user, account=account, invoice=invoice, reason=reason,
                    reason_text=draft.get("reason_text", ""), readings=readings, photos=photos,
                    phone=draft.get("phone"), email=draft.get("email"), comment=draft.get("comment", ""),
                    language=_language(), login_method=session_login_method(request), channel=Channel.PORTAL,
                    submission_key=draft.get("key"), consent=True,
                    consent_version=_int_or_none(request.POST.get("consent_version")),
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                draft.clear()
                return redirect("portal:claim_registered", number=claim.number)
    warnings = reading_warnings(invoice=invoice, meters=meters, readings=readings)
    meter_rows = [(m, stored[m.serial_number], warnings.get(m.serial_number, "")) for m in meters]
    holds = filing.citizen_holds(citizen=request.user, account=account)
    try:
        consent_text = consent_text_current(language=_language())
    except ServiceError:
        consent_text = None
    return render(request, "portal/review.html", {
        "account": account, "invoice": invoice, "reason": reason.text(_language()), "draft": draft.data,
        "meter_rows": meter_rows, "form": form, "holds": holds,
        "holder_name": account.holder_name if holds else mask_name(account.holder_name),
        "consent_text": consent_text,
        # Art. 8.1.4: the citizen sees their earlier claims on this invoice or account, and how they ended.
        "earlier": selectors.claims_same_matter(citizen_key=fin_key(request.user.fin or ""),
                                                subscriber_code=account.subscriber_code,
                                                invoice_number=invoice.number),
    })


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def registered(request: AuthenticatedRequest, number: str) -> HttpResponse:
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    return render(request, "portal/registered.html", {
        "claim": claim, "message": registration_message(claim), "branch": claim.branch.text(_language())})


@login_required
def receipt(request: AuthenticatedRequest, number: str) -> HttpResponse:
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    return render(request, "portal/receipt.html", {"claim": claim})


CLAIMS_PER_PAGE = 20


def _claim_list(request: AuthenticatedRequest, *, number: str = "", find_error: str = "",
                status: int = 200) -> HttpResponse:
    page = Paginator(selectors.claims_of_citizen(citizen=request.user), CLAIMS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "portal/claim_list.html", {"page": page, "number": number, "find_error": find_error},
                  status=status)


@login_required
def claim_list(request: AuthenticatedRequest) -> HttpResponse:
    return _claim_list(request)


def _balance(claim) -> Decimal | None:
    """The account's balance, shown with a corrected claim's outcome (None when billing cannot
    say: the outcome is still told, without it)."""
    if claim.outcome != ClaimOutcome.CORRECTED:
        return None
    try:
        return get_gateway().balance(claim.subscriber_code)
    except BillingError:
        return None


def _detail(request: HttpRequest, claim, answer_form=None, status=200) -> HttpResponse:
    pending = next((r for r in claim.info_requests.all() if r.answered_at is None), None)
    balance = _balance(claim)
    return render(request, "portal/claim_detail.html", {
        "claim": claim, "reason": claim.reason.text(_language()), "pending_request": pending,
        "answer_form": answer_form or AnswerForm(), "letter": not claim.is_open,
        "answered": [r for r in claim.info_requests.all() if r.answered_at],
        "events": claim.events.all(), "branch": claim.branch.text(_language()),
        "outcome": outcome_sentences(claim, balance=balance),
    }, status=status)


@login_required
def claim_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    return _detail(request, selectors.claim_get_for_citizen(citizen=request.user, number=number))


@login_required
@require_POST
def claim_answer(request: AuthenticatedRequest, number: str) -> HttpResponse:
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        with PhotoDrafts() as drafts:  # the service copies the photo: the draft goes either way
            try:
                photo = drafts.put(form.cleaned_data.get("photo"))
                claim_answer_info(claim=claim, actor=request.user, text=form.cleaned_data["text"],
                                  photo_path=photo.path if photo else "",
                                  photo_content_type=photo.content_type if photo else "")
            except PhotoRejected as exc:
                form.add_error("photo", str(exc))
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Cavabınız göndərildi. Müraciətə baxılması davam edir."))
                return redirect("portal:claim_detail", number=claim.number)
    return _detail(request, claim, answer_form=form, status=400)


@login_required
def claim_withdraw_view(request: AuthenticatedRequest, number: str) -> HttpResponse:
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    if not claim.is_open:
        return redirect("portal:claim_detail", number=claim.number)
    if request.method == "POST":
        claim_withdraw(claim=claim, actor=request.user)
        messages.success(request, _("Müraciət geri götürüldü. Cavab məktubu aşağıdadır."))
        return redirect("portal:claim_detail", number=claim.number)
    return render(request, "portal/withdraw.html", {"claim": claim})


@login_required
def claim_letter(request: AuthenticatedRequest, number: str) -> HttpResponse | FileResponse:
    """The reasoned answer to the claim (PDF, in the claim's language), whatever ended it: the
    commission's letter as it was stored at the decision, or the letter of the closing move."""
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    event = ending_event(claim)
    if event is None:
        raise Http404
    item = letter_for_claim(claim) if event.move in COMMISSION_ENDINGS else None
    if item is not None:
        return FileResponse(item.letter.open("rb"), content_type="application/pdf", as_attachment=False,
                            filename=f"{claim.number}.pdf")
    pdf = ending_letter_pdf(claim=claim, event=event, balance=_balance(claim))
    return HttpResponse(pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{claim.number}.pdf"'})


@login_required
def claim_photo(request: AuthenticatedRequest, number: str, evidence_id: int) -> FileResponse:
    claim = selectors.claim_get_for_citizen(citizen=request.user, number=number)
    evidence = next((e for e in claim.evidence.all() if e.pk == evidence_id), None)
    if evidence is None:
        raise Http404
    return evidence_response(evidence.photo.open("rb"), content_type=evidence.photo_content_type,
                             name=f"{number}-{evidence.meter_serial}")


@login_required
@require_POST
def claim_find(request: AuthenticatedRequest) -> HttpResponse:
    """“Müraciətin statusunu yoxla”: the citizen's own claim by number. A number that does not
    exist and one that is somebody else's get the same answer, next to the field."""
    number = request.POST.get("number", "").strip().upper()
    if not number:
        return _claim_list(request, find_error=_("Müraciət nömrəsini daxil edin."), status=400)
    if not selectors.claims_of_citizen(citizen=request.user).filter(number=number).exists():
        return _claim_list(request, number=number, status=404,
                           find_error=_("Bu nömrə ilə sizin müraciətiniz tapılmadı. Nömrəni yoxlayın."))
    return redirect("portal:claim_detail", number=number)


@login_required
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    """“Bildirişlər və müraciətlər” (the e-su.az section): every e-mail and SMS sent to the
    citizen about their claims, and every claim, in one place."""
    from notifications.selectors import deliveries_of_citizen

    return render(request, "portal/inbox.html", {
        "claims": selectors.claims_of_citizen(citizen=request.user),
        "messages_sent": deliveries_of_citizen(citizen=request.user)[:200],
    })


# --- “Mənim məlumatlarım”: what is held about the citizen --------------------------------------------

@login_required
def my_data(request: AuthenticatedRequest) -> HttpResponse:
    """Every claim, contact, consent and notification held about the citizen, with downloads
    (JSON, PDF) and the withdrawal of a consent."""
    from privacy import selectors as held

    citizen = request.user
    return render(request, "portal/my_data.html", {
        "claims": Paginator(held.claims_held(citizen=citizen), 20).get_page(request.GET.get("claims")),
        "contacts": held.contacts_of(citizen=citizen),
        "consents": held.consents_of(citizen=citizen),
        "deliveries": Paginator(held.deliveries_of(citizen=citizen), 20).get_page(request.GET.get("page")),
    })


@login_required
def my_data_json(request: AuthenticatedRequest) -> HttpResponse:
    import json

    from privacy.selectors import citizen_data

    response = HttpResponse(json.dumps(citizen_data(citizen=request.user), ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="menim-melumatlarim.json"'
    return response


@login_required
def my_data_pdf(request: AuthenticatedRequest) -> HttpResponse:
    from privacy.export import citizen_data_pdf
    from privacy.selectors import citizen_data

    response = HttpResponse(citizen_data_pdf(citizen_data(citizen=request.user)), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="menim-melumatlarim.pdf"'
    return response


@login_required
@require_POST
def consent_withdraw_view(request: AuthenticatedRequest, record_id: int) -> HttpResponse:
    from privacy.services import consent_withdraw

    try:
        record = consent_withdraw(record_id=record_id, actor=request.user)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(number)s nömrəli müraciət üzrə razılığınız geri götürüldü.")
                         % {"number": record.claim.number})
    return redirect("portal:my_data")
