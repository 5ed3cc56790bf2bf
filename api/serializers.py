"""Explicit input and output shapes of each operation. Output serializers render plain dicts
built by api.views' presenters; money is a decimal string with two decimals, dates are ISO."""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claims.contacts import normalise_phone
from claims.models import ReasonTemplate
from claims.transitions import ClaimOutcome, ClaimStatus

from . import selectors


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int
    coerce_to_string: bool


MONEY: MoneyOptions = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}
READING_MAX = 9_999_999
SERIAL_PATTERN = r"[A-Za-z0-9._-]{1,32}"
DYNAMIC_FIELD_RE = re.compile(rf"^(reading|photo)\[({SERIAL_PATTERN})\]$")
# The per-meter fields of a claim, by name pattern (api.schema puts them in the OpenAPI file).
READING_FIELD_PATTERN = rf"^reading\[{SERIAL_PATTERN}\]$"
PHOTO_FIELD_PATTERN = rf"^photo\[{SERIAL_PATTERN}\]$"
READING_RE = re.compile(r"^[0-9]{1,7}$")

# An Azerbaijani mobile number as the server takes it (claims.contacts.normalise_phone, which
# reads +994, 00994, 994 or 0 before the two-digit mobile prefix, and ignores spaces, dashes and
# brackets): stated as a pattern so that the OpenAPI file says exactly what is accepted.
_SEP = r"[ ()-]*"
_MOBILE = "|".join(f"{p[0]}{_SEP}{p[1]}" for p in ("10", "40", "44", "50", "51", "55", "60", "70", "77", "99"))
_SEVEN = rf"(?:{_SEP}[0-9]){{7}}"
PHONE_PATTERN = (
    rf"^{_SEP}(?:"
    rf"(?:(?:\+|0{_SEP}0){_SEP})?9{_SEP}9{_SEP}4{_SEP}(?:{_MOBILE}){_SEVEN}"  # +994, 00994 or 994
    rf"|0{_SEP}(?:{_MOBILE}){_SEVEN}"  # 0 50 ...
    # No prefix: "99 4..." would read as the country code 994, so 99 is not followed by a 4 there.
    rf"|(?:{_MOBILE.removesuffix(f'|9{_SEP}9')}){_SEVEN}|9{_SEP}9{_SEP}[0-35-9](?:{_SEP}[0-9]){{6}}"
    rf"){_SEP}$"
)


# --- Problems (for the schema) ---------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="URI of the problem type (see docs/api.md)")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The request's path")


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The request field, header or null for the whole request")
    message = serializers.CharField()


class ValidationProblemSerializer(ProblemSerializer):
    # DRF's metaclass moves declared fields into _declared_fields, so this does not replace the
    # serializer's ``errors`` property as the stubs assume.
    errors = FieldErrorSerializer(many=True)  # type: ignore[assignment]


class OpenClaimProblemSerializer(ProblemSerializer):
    claim_number = serializers.CharField(help_text="The open claim on the invoice")


class ClaimProblemSerializer(ProblemSerializer):
    claim_number = serializers.CharField(required=False,
                                         help_text="idempotency-key-reused: the claim the key filed earlier")


# --- Reasons, accounts, invoices ----------------------------------------------------------------------


class ReasonTextsSerializer(serializers.Serializer):
    az = serializers.CharField()
    en = serializers.CharField()
    ru = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField(help_text="In the language of Accept-Language")
    texts = ReasonTextsSerializer()
    requires_text = serializers.BooleanField(help_text="reason_text is required with this reason")


class BranchSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MeterSerializer(serializers.Serializer):
    serial_number = serializers.CharField()
    seal_number = serializers.CharField()
    last_reading = serializers.IntegerField(allow_null=True, help_text="m³")
    last_reading_on = serializers.DateField(allow_null=True)


class InvoiceLineSerializer(serializers.Serializer):
    meter_serial = serializers.CharField()
    previous_reading = serializers.IntegerField()
    current_reading = serializers.IntegerField()
    consumption = serializers.IntegerField(help_text="m³")
    estimated = serializers.BooleanField()


class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    period = serializers.DateField(help_text="First day of the billed month")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    consumption = serializers.IntegerField(help_text="m³")
    water_amount = serializers.DecimalField(**MONEY)
    sewerage_amount = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    estimated = serializers.BooleanField()
    lines = InvoiceLineSerializer(many=True)


class AccountSerializer(serializers.Serializer):
    """An account the citizen holds: everything."""

    subscriber_code = serializers.CharField()
    holder_name = serializers.CharField()
    address = serializers.CharField()
    branch = BranchSerializer()
    category = serializers.CharField()
    meters = MeterSerializer(many=True)


class AccountDetailSerializer(serializers.Serializer):
    """Any account by its code. For an account the citizen does not hold (``holds`` false) the
    holder's name is masked and address, branch, category and meters are null."""

    subscriber_code = serializers.CharField()
    holds = serializers.BooleanField(help_text="The citizen (FIN) holds this account")
    holder_name = serializers.CharField(help_text="Masked (Ə***** R****) unless the citizen holds the account")
    address = serializers.CharField(allow_null=True)
    branch = BranchSerializer(allow_null=True)
    category = serializers.CharField(allow_null=True)
    meters = MeterSerializer(many=True, allow_null=True)
    invoices = InvoiceSerializer(many=True, help_text="The last 12 months, newest first")


class InvoiceMeterSerializer(serializers.Serializer):
    serial_number = serializers.CharField()
    seal_number = serializers.CharField()
    last_reading = serializers.IntegerField(allow_null=True)
    last_reading_on = serializers.DateField(allow_null=True)
    billed_previous_reading = serializers.IntegerField()
    billed_current_reading = serializers.IntegerField()
    estimated = serializers.BooleanField()


# --- Claims: output -----------------------------------------------------------------------------------------


class ClaimSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=ClaimStatus.choices)
    outcome = serializers.ChoiceField(choices=ClaimOutcome.choices, allow_null=True)
    subscriber_code = serializers.CharField()
    invoice_number = serializers.CharField()
    registered_at = serializers.DateTimeField()
    due_on = serializers.DateField()
    closed_at = serializers.DateTimeField(allow_null=True)


class ClaimReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField(help_text="In the language of Accept-Language")


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ClaimStatus.choices)
    kind = serializers.CharField(help_text="registered, forwarded, review_started, info_requested, ...")
    text = serializers.CharField(allow_blank=True, help_text="What happened, in the language of Accept-Language")
    note = serializers.CharField(allow_blank=True, help_text="What a person wrote (a question, a reason), as written")


class ClaimMeterSerializer(serializers.Serializer):
    meter_serial = serializers.CharField()
    seal_number = serializers.CharField(allow_blank=True)
    billed_reading = serializers.IntegerField(allow_null=True)
    declared_reading = serializers.IntegerField()


class PendingRequestSerializer(serializers.Serializer):
    question = serializers.CharField()
    asked_at = serializers.DateTimeField()


class ClaimDetailSerializer(ClaimSummarySerializer):
    channel = serializers.CharField()
    channel_label = serializers.CharField()
    login_method = serializers.CharField()
    language = serializers.CharField(help_text="Language of the citizen's notifications")
    registration_message = serializers.CharField(
        help_text="The text to show the citizen once the claim is filed, in the words of the manual for the "
                  "channel that filed it (e-su.az: \"Müraciətiniz qeydə alındı. Müraciət nömrəniz: …\"; "
                  "e-gov.az: \"Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə "
                  "təşəkkür edirik. Müraciət nömrəniz: …\"), in the language of Accept-Language")
    reason = ClaimReasonSerializer()
    reason_text = serializers.CharField(allow_blank=True)
    invoice_total = serializers.DecimalField(**MONEY, allow_null=True)
    meters = ClaimMeterSerializer(many=True)
    corrected_amount = serializers.DecimalField(**MONEY, allow_null=True,
                                                help_text="Outcome corrected: the change of the debt the commission "
                                                          "decided (negative lowers it)")
    outcome_reason = serializers.CharField(allow_blank=True)
    pending_request = PendingRequestSerializer(allow_null=True,
                                               help_text="The operator's open question, to answer with /answer/")
    timeline = TimelineEntrySerializer(many=True, help_text="Public events, oldest first")
    letter_url = serializers.URLField(allow_null=True, help_text="The commission's decision letter (PDF), if any")


# --- Claims: input -------------------------------------------------------------------------------------


@extend_schema_field({"type": "boolean", "const": True,
                      "description": "Must be true: the citizen consents to the processing of the personal data of "
                                     "the claim (400 otherwise)"})
class ConsentField(serializers.BooleanField):
    pass


@extend_schema_field({
    "type": "object", "propertyNames": {"pattern": f"^{SERIAL_PATTERN}$"},
    "additionalProperties": {"type": "integer", "minimum": 0, "maximum": READING_MAX},
    "description": "Today's reading of each meter on the invoice (m³), by serial number, as one JSON object "
                   "(`{\"SM0040611\": 1490}`): the same as the `reading[<serial_number>]` fields, for clients "
                   "that cannot name fields freely. Use one form or the other.",
})
class ReadingsField(serializers.Field):
    """A JSON object {serial: reading} in one multipart field."""

    default_error_messages = {
        "invalid": _("Göstəriciləri JSON obyekti kimi göndərin: hər sayğacın nömrəsi və onun göstəricisi."),
        "reading": _("Göstəricini tam ədədlə yazın, məsələn 1490."),
        "serial": _("Sayğacın nömrəsi düzgün deyil."),
    }

    def to_internal_value(self, data: Any) -> dict[str, int]:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        out: dict[str, int] = {}
        for serial, value in data.items():
            if not re.fullmatch(SERIAL_PATTERN, str(serial)):
                self.fail("serial")
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= READING_MAX:
                self.fail("reading")
            out[str(serial)] = value
        return out

    def to_representation(self, value: Any) -> Any:
        return value


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except forms.ValidationError as e:
        raise serializers.ValidationError(list(e.messages)) from e


class ClaimCreateSerializer(serializers.Serializer):
    """multipart/form-data. Besides these fields, one `reading[<meter serial>]` (integer, m³)
    and one `photo[<meter serial>]` (jpg, jpeg, png or pdf) for every meter on the invoice."""

    subscriber_code = serializers.RegexField(
        r"^\d{10}$", max_length=10, error_messages={"invalid": _("Abonent kodu 10 rəqəmdən ibarət olmalıdır.")})
    invoice_number = serializers.CharField(max_length=20)
    reason = serializers.SlugField(max_length=40, help_text="A reason template's code (GET /reasons/)")
    reason_text = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        PHONE_PATTERN, max_length=25, trim_whitespace=False,
        help_text="Azerbaijani mobile number (prefix 10, 40, 44, 50, 51, 55, 60, 70, 77 or 99), e.g. +994501234567 "
                  "or 050 123 45 67",
        error_messages={"invalid": _("Mobil nömrəni düzgün yazın, məsələn: 050 123 45 67 və ya +994 50 123 45 67."),
                        "blank": _("Telefon nömrəsini daxil edin."), "required": _("Telefon nömrəsini daxil edin.")})
    email = serializers.EmailField(max_length=254)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=[("az", "az"), ("en", "en"), ("ru", "ru")], required=False,
                                       default="az", help_text="Language of the citizen's notifications")
    consent = ConsentField()
    readings = ReadingsField(required=False)

    def validate_reason(self, value: str) -> ReasonTemplate:
        reason = selectors.reasons_active().filter(code=value).first()
        if reason is None:
            raise serializers.ValidationError(_("Müraciətin səbəbini siyahıdan seçin."))
        return reason

    def validate_phone(self, value: str) -> str:
        return _phone(value)

    def validate_language(self, value: str) -> str:
        codes = {code for code, _name in settings.LANGUAGES}
        if value not in codes:
            raise serializers.ValidationError(_("Dəstəklənməyən dil."))
        return value

    def validate_consent(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                _("Müraciəti göndərmək üçün şəxsi məlumatların emalına razılıq verin."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        reason = attrs.get("reason")
        if reason is not None and reason.requires_text and not (attrs.get("reason_text") or "").strip():
            raise serializers.ValidationError({"reason_text": _("“Digər” səbəbini qısa yazın.")})
        return attrs

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as e:
            errors.update(e.detail)  # type: ignore[arg-type]
            value = {}
        readings: dict[str, int] = {}
        photos: dict[str, UploadedFile] = {}
        as_json = value.pop("readings", None)
        for name in data:
            match = DYNAMIC_FIELD_RE.fullmatch(name)
            if match is None:
                if name.startswith(("reading[", "photo[")):
                    errors[name] = [_("Sayğacın nömrəsi düzgün deyil.")]
                continue
            kind, serial = match.groups()
            raw = data.get(name)
            if kind == "reading":
                if isinstance(raw, UploadedFile) or not READING_RE.fullmatch(str(raw)):
                    errors[name] = [_("Göstəricini tam ədədlə yazın, məsələn 1490.")]
                else:
                    readings[serial] = int(raw)
            else:
                if not isinstance(raw, UploadedFile):
                    errors[name] = [_("Sayğacın şəklini fayl kimi yükləyin.")]
                else:
                    photos[serial] = raw
        if as_json is not None and readings:
            errors["readings"] = [_("Göstəriciləri ya reading[...] sahələrində, ya readings-də göndərin, ikisində "
                                    "birdən yox.")]
        if errors:
            raise serializers.ValidationError(errors)
        value["readings"] = readings or as_json or {}
        value["photos"] = photos
        return value


class ClaimAnswerSerializer(serializers.Serializer):
    """multipart/form-data: the answer's text and/or a photo."""

    text = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False, allow_null=True, default=None,
                                  help_text="jpg, jpeg, png or pdf")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("text", "").strip() and not attrs.get("photo"):
            raise serializers.ValidationError({"text": _("Cavabı yazın və ya şəkil yükləyin.")})
        return attrs


# --- Webhooks (described in the OpenAPI file's ``webhooks``) ----------------------------------------


class WebhookEventSerializer(serializers.Serializer):
    """The JSON body POSTed to a channel's webhook URL for every public event of a claim
    (api.webhooks.webhook_payload)."""

    event_id = serializers.UUIDField(help_text="Unique per event and channel; also in X-Webhook-Event-Id: drop a "
                                               "repeat (delivery is at least once)")
    type = serializers.ChoiceField(choices=[("claim.event", "claim.event")])
    sequence = serializers.IntegerField(help_text="Grows with every event of the service: order a claim's events by it")
    kind = serializers.CharField(help_text="The timeline entry: registered, forwarded, review_started, "
                                           "info_requested, closed_refused, ...")
    claim_number = serializers.CharField()
    status = serializers.ChoiceField(choices=ClaimStatus.choices, help_text="The claim's status after the event")
    outcome = serializers.ChoiceField(choices=ClaimOutcome.choices, allow_null=True)
    corrected_amount = serializers.DecimalField(**MONEY, allow_null=True,
                                                help_text="Outcome corrected: the change of the debt decided "
                                                          "(negative lowers it)")
    due_on = serializers.DateField()
    note = serializers.CharField(allow_blank=True, help_text="What a person wrote with the event, as written")
    occurred_at = serializers.DateTimeField()
    channel = serializers.CharField(help_text="The receiving channel's code")
