"""A closed claim's outcome in plain words, the same on the page, in the e-mail and in the letter.

“Borcunuz 29,00 AZN azaldıldı; faktura 9,00 AZN oldu; artıq ödənilən məbləğ növbəti fakturada
nəzərə alınacaq.” A citizen never reads a negative amount: the direction of a correction and
of a balance is said in words, the amount is always its size. Sentences are in the active
language (the caller overrides it with the claim's or the reader's language).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.text import format_money

from .transitions import ClaimOutcome, ClaimStatus

if TYPE_CHECKING:
    from .models import Claim

ZERO = Decimal("0.00")


def balance_sentence(balance: Decimal) -> str:
    """The account's balance in words: a debt, nothing, or an overpayment carried forward."""
    if balance > ZERO:
        return _("Cari borcunuz: %(amount)s.") % {"amount": format_money(balance)}
    if balance < ZERO:
        return _("Artıq ödənilən %(amount)s növbəti fakturada nəzərə alınacaq.") % {"amount": format_money(-balance)}
    return _("Borcunuz yoxdur.")


def outcome_sentences(claim: Claim, *, balance: Decimal | None = None, amount: Decimal | None = None,
                      short: bool = False) -> list[str]:
    """What the claim's ending means for the citizen, sentence by sentence (empty while the
    claim is open). ``balance`` is the account's balance after the correction, when known;
    ``amount`` a correction being announced (the claim's own once it is closed corrected).
    ``short`` leaves out the new invoice amount (an SMS)."""
    if amount is None and claim.status == ClaimStatus.CLOSED and claim.outcome == ClaimOutcome.CORRECTED:
        amount = claim.corrected_amount
    if claim.status == ClaimStatus.WITHDRAWN:
        return [_("Müraciəti geri götürdünüz; ona baxılmayacaq. Eyni faktura üzrə yeni müraciət göndərə bilərsiniz.")]
    if claim.status != ClaimStatus.CLOSED and amount is None:
        return []
    old = claim.invoice.total if claim.invoice_snapshot and not short else None
    if amount is not None:
        amount = Decimal(amount)
        sentences = []
        values = {"amount": format_money(abs(amount)),
                  "invoice": format_money(old + amount) if old is not None else ""}
        if amount < ZERO:
            sentences.append(_("Borcunuz %(amount)s azaldıldı; faktura %(invoice)s oldu.") % values
                             if old is not None else _("Borcunuz %(amount)s azaldıldı.") % values)
        elif amount > ZERO:
            sentences.append(_("Borcunuz %(amount)s artırıldı; faktura %(invoice)s oldu.") % values
                             if old is not None else _("Borcunuz %(amount)s artırıldı.") % values)
        if balance is not None:
            sentences.append(balance_sentence(balance))
        return sentences
    if claim.outcome == ClaimOutcome.REFUSED:
        if old is not None:
            return [_("Borcunuza düzəliş edilmədi; faktura %(invoice)s olaraq qalır.") % {"invoice": format_money(old)}]
        return [_("Borcunuza düzəliş edilmədi.")]
    if claim.outcome == ClaimOutcome.REDIRECTED:
        return [_("Müraciətinizdəki məsələ bizim səlahiyyətimizə aid olmadığı üçün aidiyyəti üzrə göndərildi.")]
    if claim.outcome == ClaimOutcome.UNCONSIDERED:
        return [_("Eyni məsələ üzrə təkrar müraciətinizə yeni dəlil olmadığı üçün baxılmadı.")]
    return []


def outcome_text(claim: Claim, *, balance: Decimal | None = None) -> str:
    """The outcome sentences as one paragraph (e-mails, SMS, letters)."""
    return " ".join(outcome_sentences(claim, balance=balance))
