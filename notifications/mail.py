"""The e-mail of a delivery as receivers expect it.

- a plain-text part (the rendered template) and an HTML alternative made from the same text:
  branded (the organisation's name and colour), accessible (``lang``, a title, real headings and
  paragraphs, links that say where they go, text at least 16 px, sufficient contrast) and with
  no remote images or scripts, so that nothing is fetched when it is opened;
- ``Message-ID`` derived from the delivery's id on the portal's domain (``PORTAL_URL``): an
  e-mail sent again after a crash carries the same one, so a mail client shows it once;
- ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress`` so that
  out-of-office robots do not answer, ``Reply-To: EMAIL_REPLY_TO``, ``Content-Language``.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core.glossary import service_name

if TYPE_CHECKING:
    from .models import Delivery

# The line that starts the footer of the default templates (a signature separator).
FOOTER_SEPARATOR = re.compile(r"\n-- ?\n")


def portal_domain() -> str:
    """The host of ``PORTAL_URL`` as it may stand after the ``@`` of a Message-ID (an address
    in brackets)."""
    host = urllib.parse.urlsplit(str(settings.ORGANISATION["portal_url"])).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]"


def message_id(delivery_id: int) -> str:
    """The Message-ID of a delivery's e-mail: the same for every attempt."""
    return f"<notification.{delivery_id}@{portal_domain()}>"


def _paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (separated by blank lines), each a list of lines."""
    return [block.splitlines() for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]


def email_message(delivery: Delivery) -> EmailMultiAlternatives:
    """The message to send for ``delivery`` (an e-mail row with its subject and text)."""
    text = delivery.body
    parts = FOOTER_SEPARATOR.split(text, maxsplit=1)
    main, footer = (parts[0], parts[1]) if len(parts) == 2 else (text, "")
    org = settings.ORGANISATION
    language = delivery.language or "az"
    html = render_to_string("notifications/email/message.html", {
        "language": language,
        "service": service_name(language),
        "subject": delivery.subject,
        "paragraphs": _paragraphs(main),
        "footer": _paragraphs(footer),
        "org": org,
    })
    message = EmailMultiAlternatives(
        subject=delivery.subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.recipient],
        reply_to=[settings.EMAIL_REPLY_TO] if settings.EMAIL_REPLY_TO else None,
        headers={
            "Message-ID": message_id(delivery.pk),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": delivery.language or "az",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
