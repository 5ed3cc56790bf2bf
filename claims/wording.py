"""What the citizen reads when a claim is filed, as each channel's manual words it.

The user manual gives two texts: the e-Government portal's and the service's own pages say
“Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik.
Müraciət nömrəniz: _XX_” (Şəkil 11) after “Müraciət et”; the “Elektron su” portal (e-su.az) says
“Müraciətiniz qeydə alındı. Müraciət nömrəniz: _XX_” (Şəkil 17) after “Göndər” (Şəkil 16).
The pages use these functions, and the channel API returns ``registration_message`` with a
filed claim so that the channel can show its own words.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.utils.translation import gettext as _
from django.utils.translation import override

from .models import Channel, Claim


def registration_message(claim: Claim, *, language: str | None = None) -> str:
    """The sentence that confirms the claim's registration, with its number, in ``language``
    (or the active one), in the words of the channel the claim came through."""
    with override(language) if language else nullcontext():
        if claim.channel == Channel.ESU:
            return _("Müraciətiniz qeydə alındı. Müraciət nömrəniz: %(number)s") % {"number": claim.number}
        return _("Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
                 "Müraciət nömrəniz: %(number)s") % {"number": claim.number}


def submit_label(channel: str) -> str:
    """The label of the button that sends the claim, as the channel's manual names it."""
    return _("Göndər") if channel == Channel.ESU else _("Müraciət et")

