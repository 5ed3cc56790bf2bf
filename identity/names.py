"""Names of people as identity providers and channels send them: checked before they are
stored, because they go into e-mails, SMS, letters and pages."""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 150
# Markup and template syntax: never part of a name.
FORBIDDEN = set("<>&\"`{}[]\\|=;$%")


def name_problem(value: str) -> str:
    """Why ``value`` is not acceptable as a person's name ("" when it is)."""
    if len(value) > MAX_NAME_CHARS:
        return f"longer than {MAX_NAME_CHARS} characters"
    for ch in value:
        if unicodedata.category(ch).startswith(("C", "Z")) and ch != " ":
            return "contains control or invisible characters"
        if ch in FORBIDDEN:
            return "contains markup characters"
    return ""


def clean_name(value: str) -> str:
    """The name with surrounding spaces removed, or "" when it is not acceptable."""
    value = value.strip()
    return "" if name_problem(value) else value
