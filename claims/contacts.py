"""The citizen's contact details on a claim: one rule for every channel."""

import re

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _

AZ_MOBILE_PREFIXES = {"10", "40", "44", "50", "51", "55", "60", "70", "77", "99"}


def normalise_phone(value: str) -> str:
    """An Azerbaijani mobile number in E.164 (+994XXXXXXXXX), or ValidationError."""
    raw = re.sub(r"[\s\-()]", "", value or "")
    error = forms.ValidationError(
        _("Mobil nömrəni düzgün yazın, məsələn: 050 123 45 67 və ya +994 50 123 45 67."), code="phone"
    )
    if not raw:
        raise forms.ValidationError(_("Telefon nömrəsini daxil edin."), code="required")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    elif raw.startswith("994"):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, "AZ")
    except phonenumbers.NumberParseException:
        raise error from None
    national = str(number.national_number)
    if (number.country_code != 994 or len(national) != 9 or national[:2] not in AZ_MOBILE_PREFIXES
            or not phonenumbers.is_valid_number(number)):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
