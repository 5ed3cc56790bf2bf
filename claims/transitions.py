"""The claim's statuses and outcomes (DESIGN.md §4). The moves between them are declared in
``claims.workflow``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClaimStatus(models.TextChoices):
    REGISTERED = "registered", _("Qeydiyyata alınıb")
    FORWARDED = "forwarded", _("İcraya yönləndirilib")
    IN_REVIEW = "in_review", _("Araşdırılır")
    INSPECTION = "inspection", _("Yerində yoxlama")
    AWAITING_CITIZEN = "awaiting_citizen", _("Sizdən məlumat gözlənilir")
    AT_COMMISSION = "at_commission", _("Komissiyada")
    POSTING = "posting", _("Düzəliş təsdiqlənib, billinqə ötürülür")
    CLOSED = "closed", _("Başa çatıb")
    WITHDRAWN = "withdrawn", _("Geri götürülüb")


class ClaimOutcome(models.TextChoices):
    CORRECTED = "corrected", _("Borc düzəldilib")
    REFUSED = "refused", _("İmtina edilib")
    # Art. 7.10: outside the utility's competence, forwarded to the competent body.
    REDIRECTED = "redirected", _("Aidiyyəti üzrə göndərilib")
    # Art. 8.1.4: a repeat appeal left unconsidered, with a reasoned answer.
    UNCONSIDERED = "unconsidered", _("Baxılmadan saxlanılıb")


FINAL_STATUSES = frozenset({ClaimStatus.CLOSED, ClaimStatus.WITHDRAWN})
OPEN_STATUSES = frozenset(ClaimStatus.values) - FINAL_STATUSES
