"""Filing a claim: the one path every channel takes (the portal's review step, the channel API).

What a channel shows and checks before a claim is registered is decided here, once: which
invoices a claim may dispute (those of the last ``INVOICE_MONTHS`` months), which meters of an
invoice need a reading and a photo, whether the citizen holds the account (full data) or not
(masked data, and a look-up counted against his hourly budget), and how the meter
declarations are built from the invoice. ``claim_file`` then hands the claim to
``claims.services.claim_register``.

Every refusal is a ``core.errors.ServiceError``. Refusals of input that does not fit billing's
data are ``FilingRefused``, whose ``errors`` maps field names to messages: ``subscriber_code``,
``invoice_number``, ``reading[<meter serial>]``, ``photo[<meter serial>]`` (the API's field
names, answered as they are; the portal maps them to its form).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateway import AccountInfo, InvoiceInfo, MeterInfo, get_gateway
from core.errors import ServiceError
from identity.models import User

from .evidence import PhotoDrafts, PhotoRejected, StoredPhoto
from .models import Claim, ReasonTemplate
from .services import MeterDeclaration, claim_register

INVOICE_MONTHS = 12


class FilingRefused(ServiceError):
    """Input that does not fit billing's data. ``errors`` maps field names to messages, in the
    order they were found; ``field`` and the message are the first one's."""

    code = "invalid_input"

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        field, message = next(iter(self.errors.items()))
        super().__init__(message, field=field)


class AccountNotFound(FilingRefused):
    def __init__(self) -> None:
        super().__init__({"subscriber_code": _("Bu abonent kodu tapılmadı. Fakturadakı kodu yoxlayıb yenidən daxil "
                                               "edin.")})


class LookupLimited(ServiceError):
    """The citizen has looked at too many accounts he does not hold this hour; ``wait`` is the
    number of seconds until the budget is renewed."""

    code = "lookup_limited"

    def __init__(self, wait: int):
        self.wait = wait
        super().__init__(_("Başqa abonent kodlarının yoxlanışı üçün limit keçilib. Bir saatdan sonra yenidən cəhd "
                           "edin."), field="subscriber_code")


# --- The invoices a claim may dispute ----------------------------------------------------------------


def window_start(*, today: date | None = None) -> date:
    """The first day of the month ``INVOICE_MONTHS`` months before ``today``'s (default: the
    local date): invoices of a period from that day on may be disputed."""
    today = today or timezone.localdate()
    month = today.month - INVOICE_MONTHS
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def invoices_recent(*, subscriber_code: str, today: date | None = None) -> list[InvoiceInfo]:
    """The account's invoices a claim may dispute (those of the window), newest first; empty
    for an unknown account."""
    return get_gateway().invoices_of_account(subscriber_code, since=window_start(today=today))


def invoice_of_account(*, subscriber_code: str, number: str, today: date | None = None) -> InvoiceInfo:
    """The invoice ``number`` if it is one the account's claim may dispute; else FilingRefused
    (field ``invoice_number``)."""
    invoice = next((i for i in invoices_recent(subscriber_code=subscriber_code, today=today) if i.number == number),
                   None)
    if invoice is None:
        raise FilingRefused({"invoice_number": _("Bu nömrəli faktura abonentin son 12 ayın fakturaları arasında "
                                                 "yoxdur.")})
    return invoice


def meters_of_invoice(*, account: AccountInfo, invoice: InvoiceInfo) -> list[MeterInfo]:
    """The account's meters that are on the invoice, in the invoice's order, with their seal
    and last reading: each needs a reading and a photo in a claim on the invoice."""
    by_serial = {m.serial_number: m for m in account.meters}
    return [by_serial[line.meter_serial] for line in invoice.lines if line.meter_serial in by_serial]


# --- The account, as the citizen may see it -----------------------------------------------------------


def citizen_holds(*, citizen: User, account: AccountInfo | None) -> bool:
    """Whether the account is held under the citizen's FIN (he sees its full data; anybody
    else sees the holder's name masked). An account without a FIN (an organisation's) is held
    by nobody."""
    return account is not None and bool(account.holder_fin) and account.holder_fin == citizen.fin


def foreign_lookup_allow(*, citizen: User, subscriber_code: str, recount: bool = False) -> None:
    """Count a look-up of an account the citizen does not hold (or of a code that does not
    exist) against his budget of ``FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR`` a clock hour, one budget
    whichever channel he looks through; past it, LookupLimited.

    An account already looked at this hour is not counted again (the API reads it in several
    calls: account, invoices, meters), unless ``recount``: the portal's account step counts
    every check the citizen makes."""
    now = timezone.now()
    hour = f"{now:%Y%m%d%H}"
    seen = f"foreign-seen:{citizen.pk}:{subscriber_code}:{hour}"
    if not recount and cache.get(seen):
        return
    counter = f"foreign-lookups:{citizen.pk}:{hour}"
    cache.add(counter, 0, timeout=3600)
    try:
        count = cache.incr(counter)
    except ValueError:  # evicted between add and incr
        cache.set(counter, 1, timeout=3600)
        count = 1
    if count > settings.FOREIGN_ACCOUNT_LOOKUPS_PER_HOUR:
        raise LookupLimited(_seconds_to_next_hour(now))
    cache.set(seen, 1, timeout=3600)


def _seconds_to_next_hour(now: datetime) -> int:
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return max(1, math.ceil((next_hour - now).total_seconds()))


@dataclass(frozen=True)
class AccountLookup:
    account: AccountInfo
    holds: bool  # the citizen holds the account: full data; else masked


def account_look_up(*, citizen: User, subscriber_code: str, recount: bool = False) -> AccountLookup:
    """The account with a subscriber code, as the citizen may see it. Looking up an account he
    does not hold, or a code billing does not know, counts against his foreign look-up budget
    (``foreign_lookup_allow``: LookupLimited); then an unknown code is AccountNotFound."""
    account = get_gateway().account_by_code(subscriber_code)
    holds = citizen_holds(citizen=citizen, account=account)
    if not holds:
        foreign_lookup_allow(citizen=citizen, subscriber_code=subscriber_code, recount=recount)
    if account is None:
        raise AccountNotFound()
    return AccountLookup(account=account, holds=holds)


def account_get(*, subscriber_code: str) -> AccountInfo:
    """The account a claim is filed on; AccountNotFound for a code billing does not know."""
    account = get_gateway().account_by_code(subscriber_code)
    if account is None:
        raise AccountNotFound()
    return account


# --- The meters' readings and photos --------------------------------------------------------------------


def meter_input_errors(*, meters: list[MeterInfo], readings: Collection[str],
                       photos: Collection[str]) -> dict[str, str]:
    """What is missing or extra among the serials given a reading and a photo: every meter on
    the invoice, and only those, needs both. Empty when the input is complete."""
    serials = {m.serial_number for m in meters}
    errors: dict[str, str] = {}
    for m in meters:
        if m.serial_number not in readings:
            errors[f"reading[{m.serial_number}]"] = _("Sayğacın bu günə göstəricisini daxil edin.")
        if m.serial_number not in photos:
            errors[f"photo[{m.serial_number}]"] = _("Göstəricinin göründüyü sayğacın şəklini yükləyin.")
    for serial in sorted(set(readings) - serials):
        errors[f"reading[{serial}]"] = _("Bu sayğac fakturada yoxdur.")
    for serial in sorted(set(photos) - serials):
        errors[f"photo[{serial}]"] = _("Bu sayğac fakturada yoxdur.")
    return errors


def meter_declarations(*, invoice: InvoiceInfo, meters: list[MeterInfo], readings: Mapping[str, int],
                       photos: Mapping[str, StoredPhoto]) -> list[MeterDeclaration]:
    """What the citizen declares for each meter: its reading today and stored photo, next to
    the reading the invoice billed. Every meter must have both (``meter_input_errors``)."""
    lines = {ln.meter_serial: ln for ln in invoice.lines}
    return [
        MeterDeclaration(
            meter_serial=m.serial_number, seal_number=m.seal_number,
            billed_reading=lines[m.serial_number].current_reading, declared_reading=readings[m.serial_number],
            photo_path=photos[m.serial_number].path, photo_content_type=photos[m.serial_number].content_type,
        )
        for m in meters
    ]


# --- Filing -------------------------------------------------------------------------------------------------


def claim_file(
    *, citizen: User, account: AccountInfo, invoice: InvoiceInfo, reason: ReasonTemplate, reason_text: str,
    readings: Mapping[str, int], photos: Mapping[str, StoredPhoto | UploadedFile], phone: str, email: str,
    comment: str, language: str, login_method: str, channel: str, submission_key: str, consent: bool,
    photo_folder: str = "drafts", consent_version: int | None = None,
) -> Claim:
    """File a claim on ``invoice`` (one of ``invoices_recent``: the caller chose it there) of
    ``account``, with a reading and a photo per meter, keyed by meter serial.

    Refuses with FilingRefused, by field and before anything is stored, unless every meter on
    the invoice, and only those, has a reading and a photo; then with FilingRefused for each
    photo ``claims.evidence.photo_store`` rejects. A photo may be a draft already stored
    (StoredPhoto: it stays the caller's when the claim is refused, claim_register deletes it
    once registered) or an upload, stored under ``photo_folder`` and deleted here whatever
    happens. Then ``claims.services.claim_register``, whose refusals (DuplicateOpenClaim,
    ServiceError) pass through and which is idempotent on ``submission_key``. Nothing is written
    when anything is refused.
    """
    meters = meters_of_invoice(account=account, invoice=invoice)
    errors = meter_input_errors(meters=meters, readings=readings, photos=photos)
    if errors:
        raise FilingRefused(errors)
    # claim_register copies the photos it keeps; the uploads' drafts go whatever happens.
    with PhotoDrafts(folder=photo_folder) as drafts:
        stored: dict[str, StoredPhoto] = {}
        for m in meters:
            photo = photos[m.serial_number]
            try:
                stored[m.serial_number] = photo if isinstance(photo, StoredPhoto) else drafts.store(photo)
            except PhotoRejected as e:
                errors[f"photo[{m.serial_number}]"] = str(e)
        if errors:
            raise FilingRefused(errors)
        return claim_register(
            citizen=citizen, account=account, invoice=invoice, reason=reason, reason_text=reason_text,
            meters=meter_declarations(invoice=invoice, meters=meters, readings=readings, photos=stored),
            phone=phone, email=email, comment=comment, language=language, login_method=login_method,
            channel=channel, submission_key=submission_key, consent=consent, consent_version=consent_version,
        )
