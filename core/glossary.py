"""One glossary per language (DESIGN.md §2), for pages, e-mails, SMS and letters alike.

``TERMS`` gives each glossary term in the three languages (Russian and Azerbaijani as stems:
the words decline); ``VARIANTS`` lists the other words for the same thing that must not creep
back in (“application” for a claim, “ошибочный счёт” for the disputed invoice).
``core/tests/test_glossary.py`` reads every text a citizen can get (the .po files, the
notification templates, the letters) and fails on a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Term:
    az: str
    en: str
    ru: str

    def in_language(self, language: str) -> str:
        return str(getattr(self, language))


TERMS: dict[str, Term] = {
    "service": Term("Borcun araşdırılması üzrə müraciət", "Application for investigation of a debt",
                    "Обращение о проверке задолженности"),
    "claim": Term("müraciət", "claim", "обращени"),
    "disputed_invoice": Term("xətalı faktur", "disputed invoice", "оспариваем"),
    "subscriber_code": Term("abonent kod", "subscriber code", "абонентск"),
    "claim_number": Term("müraciət nömrə", "claim number", "номер обращения"),
    "commission": Term("daimi komissiya", "permanent commission", "постоянн"),
}

def service_name(language: str) -> str:
    """The service's name in ``language``, as letterheads give it: in Azerbaijani the
    ORGANISATION setting's (a utility may name it its own way), in English and Russian the
    glossary's."""
    if language in ("en", "ru"):
        return TERMS["service"].in_language(language)
    return str(settings.ORGANISATION.get("service_name", ""))


# Words that name a glossary term some other way. Lower case; the service's own name
# (“Application for investigation of a debt”) is the one place “application” stays.
VARIANTS: dict[str, tuple[str, ...]] = {
    "en": ("application", "applicant's", "wrong invoice", "erroneous invoice", "incorrect invoice", "account code",
           "bill number"),
    "ru": ("ошибочн", "заявк", "заявлени", "код абонента", "кода абонента"),
}
ALLOWED: dict[str, tuple[str, ...]] = {
    "en": ("application for investigation of a debt",),
    "ru": (),
}

# The glossary terms checked pairwise: where the Azerbaijani text has the term, its English and
# Russian texts must have theirs.
PAIRED = ("disputed_invoice", "subscriber_code")


def variant_in(text: str, language: str) -> str | None:
    """The first variant word found in ``text`` (None when it uses only the glossary's words)."""
    lowered = text.lower()
    for allowed in ALLOWED.get(language, ()):
        lowered = lowered.replace(allowed, "")
    return next((v for v in VARIANTS.get(language, ()) if v in lowered), None)


def mismatches(az: str, text: str, language: str) -> list[str]:
    """What is wrong with ``text`` (the ``language`` version of the Azerbaijani ``az``)."""
    problems = []
    variant = variant_in(text, language)
    if variant:
        problems.append(f"uses “{variant}”")
    service = TERMS["service"]
    if az.strip().lower() == service.az.lower() and text.strip().lower() != service.in_language(language).lower():
        problems.append(f"names the service “{text.strip()}”, not “{service.in_language(language)}”")
    for name in PAIRED:
        term = TERMS[name]
        if term.az.lower() in az.lower() and term.in_language(language).lower() not in text.lower():
            problems.append(f"lacks “{term.in_language(language)}” for “{term.az}”")
    return problems
