"""Keyed hashes that stand for a person once their identifiers are erased.

The FIN of a claim's citizen is replaced, when the claim is anonymised, by an HMAC-SHA256 of it
under ``settings.PSEUDONYM_KEY``: without the key nobody can test a guessed FIN against it
(a FIN has only about 33^7 values, so a plain hash would be reversed in minutes), and with
it the product still recognises a repeat appeal of the same person (art. 8.1.4).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def fin_key(fin: str) -> str:
    """The keyed hash of a FIN (64 hex characters); empty for an empty FIN."""
    fin = (fin or "").strip().upper()
    if not fin:
        return ""
    return hmac.new(settings.PSEUDONYM_KEY.encode(), fin.encode(), hashlib.sha256).hexdigest()
