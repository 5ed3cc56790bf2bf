"""The commission's decision letter to the citizen, as a PDF, in the claim's language.

This is a document, not UI: its three texts live here, keyed by language, rather than in the
.po files, so that a letter always reads the same whatever the staff member's interface
language is. The DejaVu fonts shipped in ``commission/fonts/`` cover the Azerbaijani Latin
letters (ə ğ ı ö ş ü ç) and Cyrillic, so the letter renders the same on every machine.

Content streams are written uncompressed: a letter is a page or two, and staff, auditors and
tests can find the claim number in the bytes without a PDF library.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, timezone, translation
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.glossary import service_name
from core.text import format_day

from .models import DecisionKind

if TYPE_CHECKING:
    from claims.models import Claim, ClaimEvent

    from .models import AgendaItem

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
DEFAULT_LANGUAGE = "az"

# {placeholders} are filled with str.format; every value is escaped before it is put in.
# "\u00a0" (no-break space) keeps "№" with its number on one line.
TEXTS: dict[str, dict[str, str]] = {
    "az": {
        "title": "Daimi komissiyanın qərarı",
        "date": "Tarix",
        "to": "Kimə",
        "address": "Ünvan",
        "intro": "{registered} tarixində qeydiyyata alınmış {number} nömrəli borcun araşdırılması üzrə "
                 "müraciətinizə daimi komissiyanın {held_on} tarixli iclasında (protokol №\u00a0{protocol}) "
                 "baxılmışdır.",
        "particulars": "Müraciət",
        "claim_number": "Müraciət nömrəsi",
        "registered_on": "Qeydiyyat tarixi",
        "subscriber_code": "Abonent kodu",
        "invoice": "Xətalı faktura",
        "period": "Dövr",
        "decision": "Qərar",
        "approved": "Komissiya borcunuza düzəliş edilməsi barədə qərar qəbul etmişdir.",
        "refused": "Komissiya borcunuza düzəliş edilməsindən imtina etmişdir.",
        "old_amount": "Fakturanın məbləği",
        "new_amount": "Yenidən hesablanmış məbləğ",
        "correction": "Düzəlişin məbləği",
        "new_balance": "Düzəlişdən sonra borc qalığı",
        "reason": "İmtinanın səbəbi",
        "protocol": "Komissiyanın iclası: {held_on}, protokol №\u00a0{protocol}.",
        "appeal": "“Vətəndaşların müraciətləri haqqında” Azərbaycan Respublikasının Qanununa uyğun olaraq, "
                  "bu qərarla razı olmadıqda ondan yuxarı orqana və ya məhkəməyə şikayət verə bilərsiniz.",
        "secretary": "Komissiyanın katibi",
        "contacts": "Çağrı mərkəzi {phone} · {email} · {website}",
        "footer": "{org} · Müraciət №\u00a0{number} · səhifə {page}",
    },
    "en": {
        "title": "Decision of the permanent commission",
        "date": "Date",
        "to": "To",
        "address": "Address",
        "intro": "Your claim No.\u00a0{number} for investigation of the debt, registered on {registered}, "
                 "was examined by the permanent commission at its meeting of {held_on} "
                 "(protocol No.\u00a0{protocol}).",
        "particulars": "Claim",
        "claim_number": "Claim number",
        "registered_on": "Registered on",
        "subscriber_code": "Subscriber code",
        "invoice": "Disputed invoice",
        "period": "Period",
        "decision": "Decision",
        "approved": "The commission decided to correct your debt.",
        "refused": "The commission refused to correct your debt.",
        "old_amount": "Amount of the invoice",
        "new_amount": "Recalculated amount",
        "correction": "Amount of the correction",
        "new_balance": "Balance after the correction",
        "reason": "Reason for the refusal",
        "protocol": "Commission meeting: {held_on}, protocol No.\u00a0{protocol}.",
        "appeal": "Under the Law of the Republic of Azerbaijan “On citizens' appeals”, if you disagree with "
                  "this decision you may challenge it before a higher body or in court.",
        "secretary": "Secretary of the commission",
        "contacts": "Call centre {phone} · {email} · {website}",
        "footer": "{org} · Claim No.\u00a0{number} · page {page}",
    },
    "ru": {
        "title": "Решение постоянной комиссии",
        "date": "Дата",
        "to": "Кому",
        "address": "Адрес",
        "intro": "Ваше обращение №\u00a0{number} о проверке задолженности, зарегистрированное {registered}, "
                 "рассмотрено постоянной комиссией на заседании {held_on} (протокол №\u00a0{protocol}).",
        "particulars": "Обращение",
        "claim_number": "Номер обращения",
        "registered_on": "Дата регистрации",
        "subscriber_code": "Абонентский код",
        "invoice": "Оспариваемый счёт",
        "period": "Период",
        "decision": "Решение",
        "approved": "Комиссия приняла решение скорректировать вашу задолженность.",
        "refused": "Комиссия отказала в корректировке вашей задолженности.",
        "old_amount": "Сумма счёта",
        "new_amount": "Пересчитанная сумма",
        "correction": "Сумма корректировки",
        "new_balance": "Остаток задолженности после корректировки",
        "reason": "Причина отказа",
        "protocol": "Заседание комиссии: {held_on}, протокол №\u00a0{protocol}.",
        "appeal": "В соответствии с Законом Азербайджанской Республики «Об обращениях граждан», если вы не "
                  "согласны с этим решением, вы вправе обжаловать его в вышестоящий орган или в суд.",
        "secretary": "Секретарь комиссии",
        "contacts": "Колл-центр {phone} · {email} · {website}",
        "footer": "{org} · Обращение №\u00a0{number} · стр. {page}",
    },
}


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    if FONT_BOLD not in registered:
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=15)
    return {
        "base": base,
        "org": ParagraphStyle("org", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#4f5863")),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceBefore=6, spaceAfter=10),
        "h": ParagraphStyle("h", parent=base, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=10,
                            spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=13),
        "cell_b": ParagraphStyle("cell_b", parent=base, fontName=FONT_BOLD, fontSize=10, leading=13),
    }


def _language(item: AgendaItem) -> str:
    return item.claim.language if item.claim.language in TEXTS else DEFAULT_LANGUAGE


def _date(value: date) -> str:
    # The active language's way (core.text): the letters are built inside its override.
    return format_day(value)


def _letterhead(t: dict[str, Any], styles: Any, org: dict[str, Any], *, dated: date, to: str,
                address: str) -> list[Any]:
    """The top of every letter: the utility, its contacts, the date, the addressee."""
    return [
        Paragraph(escape(str(org["name"])), styles["org"]),
        Paragraph(escape(service_name(translation.get_language() or DEFAULT_LANGUAGE)), styles["base"]),
        Paragraph(escape(t["contacts"].format(phone=org.get("phone", ""), email=org.get("email", ""),
                                              website=org.get("website", ""))), styles["small"]),
        Spacer(1, 3 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colors.HexColor(str(org.get("brand_colour") or "#0b5ea8"))),
        Spacer(1, 4 * mm),
        Paragraph(f"{t['date']}: {_date(dated)}", styles["right"]),
        Spacer(1, 2 * mm),
        Paragraph(f"<b>{t['to']}:</b> {escape(to)}", styles["base"]),
        Paragraph(f"<b>{t['address']}:</b> {escape(address)}", styles["base"]),
        Spacer(1, 6 * mm),
    ]


def _money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    # The active language's separators (az and ru: comma), as in the e-mail the citizen gets.
    return f"{formats.number_format(Decimal(value).quantize(Decimal('0.01')), 2, use_l10n=True)} AZN"


def _citizen_name(item: AgendaItem) -> str:
    citizen = item.claim.citizen
    name = " ".join(p for p in (citizen.last_name, citizen.first_name, citizen.patronymic) if p)
    return name or item.claim.holder_name


def _table(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle], *, bold_last: bool = False) -> Table:
    data = []
    for i, (label, value) in enumerate(rows):
        value_style = styles["cell_b"] if bold_last and i == len(rows) - 1 else styles["cell"]
        data.append([Paragraph(escape(label), styles["cell"]), Paragraph(escape(value), value_style)])
    table = Table(data, colWidths=[62 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#c9d1da")),
        ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#4f5863")),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def decision_letter_pdf(*, item: AgendaItem, new_balance: Decimal | None = None) -> bytes:
    """The decision letter of a decided agenda item, in the claim's language (az, en or ru;
    Azerbaijani for anything else).

    ``new_balance`` is the account's balance right after billing booked the adjustment. The
    decision is taken before billing books it (the posting outbox sends it afterwards), so the
    letter stored with the decision has no balance line; a letter printed once billing has
    confirmed is given it. Billing is never called here: a letter prints while billing is down.
    """
    from claims.outcome import balance_sentence, outcome_sentences

    if not item.decision:
        raise ValueError("the agenda item has no decision yet")
    _register_fonts()
    lang = _language(item)
    t = TEXTS[lang]
    claim, meeting = item.claim, item.meeting
    org = settings.ORGANISATION
    approved = item.decision == DecisionKind.APPROVED
    decided_on = timezone.localdate(item.decided_at) if item.decided_at else timezone.localdate()
    snapshot: dict[str, Any] = claim.invoice_snapshot or {}

    with translation.override(lang):
        styles = _styles()
        values = {
            "number": escape(claim.number),
            "registered": _date(timezone.localdate(claim.registered_at)),
            "held_on": _date(meeting.held_on),
            "protocol": escape(meeting.protocol_number),
        }
        period = ""
        if snapshot.get("period_start") and snapshot.get("period_end"):
            period = (f"{_date(date.fromisoformat(snapshot['period_start']))} – "
                      f"{_date(date.fromisoformat(snapshot['period_end']))}")
        if snapshot.get("period"):
            month = formats.date_format(date.fromisoformat(snapshot["period"]), "F Y")
            period = f"{month} ({period})" if period else month

        story: list[Any] = [
            *_letterhead(t, styles, org, dated=decided_on, to=_citizen_name(item), address=claim.address),
            Paragraph(t["title"], styles["title"]),
            Paragraph(t["intro"].format(**values), styles["base"]),
            Paragraph(t["particulars"], styles["h"]),
            _table([
                (t["claim_number"], claim.number),
                (t["registered_on"], values["registered"]),
                (t["subscriber_code"], claim.subscriber_code),
                (t["invoice"], claim.invoice_number),
                (t["period"], period or "—"),
            ], styles),
            Paragraph(t["decision"], styles["h"]),
        ]
        if approved:
            old = item.proposal.old_amount
            story += [
                Paragraph(f"<b>{t['approved']}</b>", styles["base"]),
                Spacer(1, 2 * mm),
                _table([
                    (t["old_amount"], _money(old)),
                    (t["new_amount"], _money(old + item.amount) if item.amount is not None else "—"),
                    # In words, never a signed amount (claims.outcome), in the letter's language.
                    (t["correction"], " ".join(outcome_sentences(claim, amount=item.amount, short=True))),
                    *([(t["new_balance"], balance_sentence(new_balance))] if new_balance is not None else []),
                ], styles, bold_last=True),
            ]
        else:
            story += [
                Paragraph(f"<b>{t['refused']}</b>", styles["base"]),
                Spacer(1, 2 * mm),
                _table([(t["reason"], item.note)], styles),
            ]
        story += [
            Spacer(1, 4 * mm),
            Paragraph(t["protocol"].format(**values), styles["base"]),
            Spacer(1, 3 * mm),
            Paragraph(escape(t["appeal"]), styles["base"]),
            Spacer(1, 12 * mm),
            Paragraph(f"{t['secretary']}: {escape(meeting.secretary.display_name)}", styles["base"]),
        ]

        footer_org, footer = str(org["name"]), t["footer"]

        def on_page(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(FONT, 8)
            canvas.setFillColor(colors.HexColor("#4f5863"))
            canvas.drawString(doc.leftMargin, 12 * mm,
                              footer.format(org=footer_org, number=claim.number, page=doc.page))
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=22 * mm,
            title=f"{t['title']} · {claim.number}", author=str(org["name"]), subject=claim.number,
            lang=lang, pageCompression=0,
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# --- A reasoned letter for every ending ------------------------------------------------------------
#
# The law wants a written, reasoned answer to every appeal, whatever ends it: the commission's
# decision, the operator's refusal, a withdrawal, a repeat appeal left unconsidered, a claim
# forwarded to the competent body. ``ending_letter_pdf`` writes one for the claim's closing move
# (a move that leaves the claim closed or withdrawn, as ``claims.workflow`` declares it), in the
# claim's language. A closing move declared later without its own texts below still gets a
# letter: its title is the general one and its body the timeline's sentence for the move.

ENDING_TEXTS: dict[str, dict[str, str]] = {
    "az": {
        "title": "Müraciətinizə cavab",
        "intro": "{registered} tarixində qeydiyyata alınmış {number} nömrəli borcun araşdırılması üzrə "
                 "müraciətinizə baxılmışdır.",
        "answer": "Cavab",
        "reason": "Əsaslandırma",
        "outcome": "Nəticə",
        "signed": "Müraciətə baxan əməkdaş",
        "appeal": "“Vətəndaşların müraciətləri haqqında” Azərbaycan Respublikasının Qanununa uyğun olaraq, "
                  "bu cavabla razı olmadıqda ondan yuxarı orqana və ya məhkəməyə şikayət verə bilərsiniz.",
        "title_withdraw": "Müraciətin geri götürülməsi barədə",
        "body_withdraw": "Müraciətinizi {closed} tarixində geri götürdünüz; ona baxılması dayandırılmışdır. "
                         "Eyni faktura üzrə yeni müraciət göndərə bilərsiniz.",
        "title_close_no_correction": "Müraciətinizə cavab",
        "body_close_no_correction": "Araşdırma nəticəsində borcunuza düzəliş edilməsi üçün əsas müəyyən "
                                    "edilmədi.",
        "title_refuse": "Daimi komissiyanın qərarı",
        "body_refuse": "Komissiya borcunuza düzəliş edilməsindən imtina etmişdir.",
        "title_leave_unconsidered": "Təkrar müraciətin baxılmadan saxlanılması barədə",
        "body_leave_unconsidered": "Eyni məsələ üzrə son bir il ərzində sizə üç dəfə əsaslandırılmış cavab "
                                   "verildiyi və müraciətdə yeni dəlil olmadığı üçün müraciətiniz "
                                   "“Vətəndaşların müraciətləri haqqında” Qanunun 8.1.4-cü maddəsinə əsasən "
                                   "baxılmadan saxlanılır.",
        "title_forward_out": "Müraciətin aidiyyəti üzrə göndərilməsi barədə",
        "body_forward_out": "Müraciətinizdəki məsələ bizim səlahiyyətimizə aid olmadığı üçün o, "
                            "“Vətəndaşların müraciətləri haqqında” Qanunun 7.10-cu maddəsinə əsasən "
                            "aidiyyəti üzrə göndərilmişdir: {body}.",
        "title_confirm_posting": "Daimi komissiyanın qərarı",
        "body_confirm_posting": "Komissiya borcunuza düzəliş edilməsi barədə qərar qəbul etmişdir.",
    },
    "en": {
        "title": "Answer to your claim",
        "intro": "Your claim No.\u00a0{number} for investigation of the debt, registered on {registered}, "
                 "has been examined.",
        "answer": "Answer",
        "reason": "Reasons",
        "outcome": "Outcome",
        "signed": "Staff member who examined the claim",
        "appeal": "Under the Law of the Republic of Azerbaijan “On citizens' appeals”, if you disagree with "
                  "this answer you may challenge it before a higher body or in court.",
        "title_withdraw": "Withdrawal of your claim",
        "body_withdraw": "You withdrew your claim on {closed}; its examination has stopped. You may send a new "
                         "claim about the same invoice.",
        "title_close_no_correction": "Answer to your claim",
        "body_close_no_correction": "The investigation found no grounds to correct your debt.",
        "title_refuse": "Decision of the permanent commission",
        "body_refuse": "The commission refused to correct your debt.",
        "title_leave_unconsidered": "Repeat claim left unconsidered",
        "body_leave_unconsidered": "You have received three reasoned answers on the same matter within the "
                                   "last year and the claim brings nothing new, so under article 8.1.4 of "
                                   "the Law “On citizens' appeals” it is left unconsidered.",
        "title_forward_out": "Claim forwarded to the competent body",
        "body_forward_out": "The matter of your claim is outside our competence, so under article 7.10 of the "
                            "Law “On citizens' appeals” it has been forwarded to the competent body: {body}.",
        "title_confirm_posting": "Decision of the permanent commission",
        "body_confirm_posting": "The commission decided to correct your debt.",
    },
    "ru": {
        "title": "Ответ на ваше обращение",
        "intro": "Ваше обращение №\u00a0{number} о проверке задолженности, зарегистрированное {registered}, "
                 "рассмотрено.",
        "answer": "Ответ",
        "reason": "Обоснование",
        "outcome": "Итог",
        "signed": "Сотрудник, рассмотревший обращение",
        "appeal": "В соответствии с Законом Азербайджанской Республики «Об обращениях граждан», если вы не "
                  "согласны с этим ответом, вы вправе обжаловать его в вышестоящий орган или в суд.",
        "title_withdraw": "Об отзыве обращения",
        "body_withdraw": "Вы отозвали обращение {closed}; его рассмотрение прекращено. Вы можете направить "
                         "новое обращение по тому же счёту.",
        "title_close_no_correction": "Ответ на ваше обращение",
        "body_close_no_correction": "По результатам проверки оснований для корректировки вашей задолженности "
                                    "не установлено.",
        "title_refuse": "Решение постоянной комиссии",
        "body_refuse": "Комиссия отказала в корректировке вашей задолженности.",
        "title_leave_unconsidered": "Об оставлении повторного обращения без рассмотрения",
        "body_leave_unconsidered": "За последний год вы трижды получили обоснованный ответ по тому же вопросу, "
                                   "а обращение не содержит новых доводов, поэтому на основании статьи 8.1.4 "
                                   "Закона «Об обращениях граждан» оно оставлено без рассмотрения.",
        "title_forward_out": "О направлении обращения по принадлежности",
        "body_forward_out": "Вопрос вашего обращения не относится к нашей компетенции, поэтому на основании "
                            "статьи 7.10 Закона «Об обращениях граждан» оно направлено по принадлежности: "
                            "{body}.",
        "title_confirm_posting": "Решение постоянной комиссии",
        "body_confirm_posting": "Комиссия приняла решение скорректировать вашу задолженность.",
    },
}


def closing_moves() -> tuple[Any, ...]:
    """The declared moves that end a claim (leave it closed or withdrawn), in declaration order."""
    from claims import workflow
    from claims.transitions import FINAL_STATUSES

    return tuple(m for m in workflow.MOVES if m.target is not None and m.target in FINAL_STATUSES)


def ending_event(claim: Claim) -> ClaimEvent | None:
    """The timeline entry of the move that ended ``claim`` (None while it is open)."""
    if claim.status not in {m.target for m in closing_moves()}:
        return None
    names = [m.name for m in closing_moves()]
    return claim.events.model.objects.filter(claim=claim, move__in=names).order_by("-at", "-id").first()


def ending_letter_pdf(*, claim: Claim, event: ClaimEvent | None = None, balance: Decimal | None = None) -> bytes:
    """The reasoned letter for the move that ended ``claim`` (its ``event``), in the claim's
    language: what was decided, why, what it means for the debt, and how to challenge it.
    Raises LookupError for a claim that has not ended."""
    from claims.outcome import outcome_sentences
    from claims.timeline import event_text

    event = event or ending_event(claim)
    if event is None:
        raise LookupError(f"claim {claim.number} has not ended")
    _register_fonts()
    lang = claim.language if claim.language in ENDING_TEXTS else DEFAULT_LANGUAGE
    t, common = ENDING_TEXTS[lang], TEXTS[lang]
    org = settings.ORGANISATION
    closed_on = timezone.localdate(claim.closed_at or event.at)
    with translation.override(lang):
        styles = _styles()
        body_name = str(getattr(claim, "competent_body", None) or "")
        values = {"number": escape(claim.number), "registered": _date(timezone.localdate(claim.registered_at)),
                  "closed": _date(closed_on), "body": escape(body_name)}
        title = t.get(f"title_{event.move}", t["title"])
        body = t.get(f"body_{event.move}")
        answer = body.format(**values) if body else escape(event_text(event))
        reason = claim.outcome_reason or event.note
        story: list[Any] = [
            *_letterhead(common, styles, org, dated=closed_on, to=_claim_citizen_name(claim), address=claim.address),
            Paragraph(escape(title), styles["title"]),
            Paragraph(t["intro"].format(**values), styles["base"]),
            Paragraph(common["particulars"], styles["h"]),
            _table([
                (common["claim_number"], claim.number),
                (common["registered_on"], values["registered"]),
                (common["subscriber_code"], claim.subscriber_code),
                (common["invoice"], claim.invoice_number),
            ], styles),
            Paragraph(t["answer"], styles["h"]),
            Paragraph(f"<b>{answer}</b>", styles["base"]),
        ]
        if reason:
            story += [Spacer(1, 2 * mm), _table([(t["reason"], reason)], styles)]
        sentences = outcome_sentences(claim, balance=balance)
        if sentences:
            story += [Paragraph(t["outcome"], styles["h"]), Paragraph(escape(" ".join(sentences)), styles["base"])]
        signer = claim.operator.display_name if claim.operator_id and claim.operator else ""
        story += [
            Spacer(1, 4 * mm),
            Paragraph(escape(t["appeal"]), styles["base"]),
            Spacer(1, 12 * mm),
            Paragraph(f"{t['signed']}: {escape(signer)}" if signer else "", styles["base"]),
        ]
        footer_org, footer = str(org["name"]), common["footer"]

        def on_page(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(FONT, 8)
            canvas.setFillColor(colors.HexColor("#4f5863"))
            canvas.drawString(doc.leftMargin, 12 * mm, footer.format(org=footer_org, number=claim.number,
                                                                     page=doc.page))
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=22 * mm,
            title=f"{title} · {claim.number}", author=str(org["name"]), subject=claim.number, lang=lang,
            pageCompression=0,
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _claim_citizen_name(claim: Claim) -> str:
    citizen = claim.citizen
    name = " ".join(p for p in (citizen.last_name, citizen.first_name, citizen.patronymic) if p)
    return name or claim.holder_name
