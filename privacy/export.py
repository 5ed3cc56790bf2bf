"""The citizen's data as a PDF (reportlab, with the DejaVu fonts the decision letters use:
Azerbaijani and Cyrillic letters)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT, FONT_BOLD = "PrivacyDejaVu", "PrivacyDejaVu-Bold"


def _fonts() -> None:
    folder = Path(apps.get_app_config("commission").path) / "fonts"
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def citizen_data_pdf(data: dict[str, Any]) -> bytes:
    """``privacy.selectors.citizen_data`` laid out as a document, in the active language."""
    _fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13)
    h1 = ParagraphStyle("h1", fontName=FONT_BOLD, fontSize=15, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=11.5, leading=16, spaceBefore=10, spaceAfter=4)
    story: list[Any] = [_p(_("Mənim məlumatlarım"), h1),
                        _p(f"{settings.ORGANISATION['name']} · {data['generated_at']}", body)]
    person = data["person"]
    story += [_p(_("Şəxs"), h2), _p(f"{_('FİN')}: {person['fin']}", body),
              _p(" ".join(v for v in (person["first_name"], person["last_name"], person["patronymic"]) if v), body)]
    story += [_p(_("Əlaqə məlumatları"), h2),
              _p(", ".join(data["contacts"]["phones"] + data["contacts"]["emails"]) or "—", body)]
    story.append(_p(_("Müraciətlər"), h2))
    for c in data["claims"]:
        story.append(_p(f"№ {c['number']} · {c['status']} {c['outcome'] or ''} · {c['registered_at']}", body))
        for key in ("subscriber_code", "invoice_number", "holder_name", "address", "phone", "email", "reason",
                    "reason_text", "comment", "outcome_reason", "corrected_amount", "forwarded_to"):
            if c[key]:
                story.append(_p(f"    {key}: {c[key]}", body))
        story.append(Spacer(1, 2 * mm))
    story.append(_p(_("Razılıqlar"), h2))
    for r in data["consents"]:
        story.append(_p(f"№ {r['claim']} · v{r['version']} ({r['language']}) · {r['given_at']} · {r['channel']} · "
                        f"{r['method']}" + (f" · {_('geri götürülüb')} {r['withdrawn_at']}" if r["withdrawn_at"]
                                            else ""), body))
        story.append(_p(r["text"], body))
    story.append(_p(_("Bildirişlər"), h2))
    for d in data["notifications"]:
        story.append(_p(f"{d['created_at']} · {d['medium']} · {d['recipient']} · {d['event']} · {d['status']}", body))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=_("Mənim məlumatlarım")).build(story)
    return buffer.getvalue()
