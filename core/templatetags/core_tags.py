from django import template
from django.utils.translation import get_language

from core import text

register = template.Library()


@register.filter
def in_language(obj):
    """Reference data kept in three languages (e.g. a reason template, a branch) in the page's
    language."""
    return obj.text((get_language() or "az")[:2])


@register.filter
def day(value):
    """30.11.2026."""
    return text.format_day(value)


@register.filter
def moment(value):
    """30.11.2026 14:05."""
    return text.format_moment(value)


@register.filter
def money(value):
    """29,00 AZN in the page's language."""
    return text.format_money(value)


@register.filter
def m3(value):
    """2 886 m³ in the page's language."""
    return text.format_volume(value)
