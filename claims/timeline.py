"""A claim's timeline, written when it is read, in the reader's language.

``workflow.perform`` stores each entry as its kind (the move's ``event``), the move and JSON
parameters, never as a sentence: a citizen reading in English or Russian sees the same entry
in their language, and staff in theirs. ``SENTENCES`` holds one translatable sentence per kind,
with ``%(name)s`` placeholders filled from the entry's parameters, written with the language's
date, money and volume helpers (``core.text``). What a person wrote (a question, an answer,
a reason) is kept in ``ClaimEvent.note`` as written and shown beside the sentence.

A move declared later without a sentence here still reads: the entry falls back to the label
of the status it left the claim in. A test fails for any declared move's event without a
sentence, so a new move gets one.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.text import format_day, format_volume, language_of

from .transitions import ClaimStatus

if TYPE_CHECKING:
    from .models import ClaimEvent

SENTENCES: dict[str, Promise] = {
    "registered": _("Müraciət qeydiyyata alındı."),
    "forwarded": _("Müraciət icra üçün %(branch)s məsul əməkdaşlarına yönləndirildi."),
    "review_started": _("Operator müraciəti araşdırmağa başladı."),
    "taken": _("Müraciəti operator %(operator)s götürdü."),
    "reassigned": _("Müraciət başqa operatora verildi: %(operator)s."),
    "deadline_extended": _("Cavab müddəti 30 iş gününədək uzadıldı. Yeni müddət: %(due_on)s."),
    "info_requested": _("Sizdən əlavə məlumat istənildi."),
    "info_answered": _("Əlavə məlumat göndərildi."),
    "inspection_ordered": _("Yerində yoxlama təyin edildi: %(visit_on)s, %(window)s."),
    "inspection_done": _("Sayğac yerində yoxlanıldı: %(readings)s."),
    "inspection_rescheduled": _("Ünvana giriş olmadığı üçün yoxlama aparılmadı. Yeni vaxt: %(visit_on)s, "
                                "%(window)s."),
    "inspection_cancelled": _("Yerində yoxlama ləğv edildi."),
    "sent_to_commission": _("Borca düzəliş təklifi daimi komissiyaya göndərildi."),
    "commission_agenda": _("%(held_on)s tarixli iclasın gündəliyinə salındı (protokol № %(protocol)s)."),
    "commission_agenda_removed": _("Protokol № %(protocol)s iclasının gündəliyindən çıxarıldı."),
    "returned_from_commission": _("Müraciət əlavə araşdırma üçün operatora qaytarıldı."),
    "closed_corrected": _("Borcunuza düzəliş billinq sistemində qeydə alındı."),
    "closed_refused": _("Borcunuza düzəliş edilməsindən imtina edildi."),
    "withdrawn": _("Müraciət geri götürüldü."),
    "correction_approved": _("Komissiya borcunuza düzəliş edilməsini təsdiq etdi; düzəliş billinqə ötürülür."),
    "closed_redirected": _("Müraciət aidiyyəti üzrə göndərildi: %(body)s."),
    "closed_unconsidered": _("Təkrar müraciət baxılmadan saxlanıldı."),
    "info_reminded": _("Sizə istənilən məlumatı göndərmək barədə xatırlatma göndərildi."),
    "info_expired": _("İstənilən məlumat müəyyən edilmiş tarixədək göndərilmədi; müraciətə mövcud məlumatlar "
                      "əsasında baxılır."),
}

# Parameters that are dates (ISO strings in the JSON) and readings by meter.
_DATES = ("due_on", "visit_on", "held_on")


def _values(event: ClaimEvent, language: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(event.params or {})
    values: dict[str, Any] = {k: v for k, v in params.items() if isinstance(v, str | int | float)}
    for name in _DATES:
        if isinstance(params.get(name), str):
            try:
                values[name] = format_day(date.fromisoformat(params[name]), language)
            except ValueError:
                values[name] = params[name]
    readings = params.get("readings")
    if isinstance(readings, dict):
        values["readings"] = "; ".join(f"{serial}: {format_volume(v, language)}" for serial, v in readings.items())
    if event.kind == "forwarded":  # the branch's name in the reader's language
        values["branch"] = event.claim.branch.text(language)
    if event.kind == "closed_redirected" and "body" not in values:
        # The competent body's name (a proper name, as staff entered it).
        values["body"] = str(getattr(event.claim, "competent_body", None) or "")
    return values


def event_text(event: ClaimEvent) -> str:
    """The entry's sentence in the active language; its status's label when the kind has no
    sentence or a parameter is missing (an entry written before its move declared one)."""
    language = language_of()
    sentence = SENTENCES.get(event.kind)
    if sentence is None:
        return str(ClaimStatus(event.status).label) if event.status in ClaimStatus.values else ""
    try:
        return str(sentence) % _values(event, language)
    except (KeyError, TypeError, ValueError):
        return str(ClaimStatus(event.status).label) if event.status in ClaimStatus.values else ""
