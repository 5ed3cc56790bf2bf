from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def in_language(obj):
    """Reference data kept in three languages (e.g. a reason template) in the page's language."""
    return obj.text((get_language() or "az")[:2])
