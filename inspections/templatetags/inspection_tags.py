import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone_display(value: str) -> str:
    """+994501234567 -> +994 50 123 45 67 (as people read it aloud); anything else unchanged."""
    try:
        number = phonenumbers.parse(value or "", None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
