"""Webhook URLs may not reach inside the network (server-side request forgery).

A webhook URL must be https and every address its host resolves to must be public: not
loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254),
shared (CGNAT), multicast, reserved or unspecified. The check runs when the URL is registered
and again on the connection itself: the socket's peer address is checked after connecting, so
a name that resolves to a public address at registration and to an internal one later (DNS
rebinding) is refused too. WEBHOOK_ALLOW_PRIVATE_URLS (tests only) allows http and any address.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeUrl(ValueError):
    pass


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str) -> None:
    """Nothing for an acceptable URL; UnsafeUrl saying why not otherwise."""
    parts = urlsplit(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in schemes:
        raise UnsafeUrl(_("Webhook URLs must use https."))
    if not parts.hostname:
        raise UnsafeUrl(_("The webhook URL has no host."))
    if parts.username or parts.password:
        raise UnsafeUrl(_("The webhook URL may not carry credentials."))
    if allow_private:
        return
    try:
        port = parts.port or 443
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as e:
        raise UnsafeUrl(_("The webhook host does not resolve.")) from e
    for info in infos:
        if not address_is_public(str(info[4][0])):
            raise UnsafeUrl(_("The webhook host resolves to a loopback, private, link-local or reserved address."))


def _checked_connection(create: Any) -> Any:
    def connect(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        sock = create(address, *args, **kwargs)
        if not settings.WEBHOOK_ALLOW_PRIVATE_URLS and not address_is_public(sock.getpeername()[0]):
            sock.close()
            raise UnsafeUrl("The webhook host resolved to a non-public address when connecting.")
        return sock
    return connect


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection(self._create_connection)  # type: ignore[has-type]  # set by http.client


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection(self._create_connection)  # type: ignore[has-type]  # set by http.client


class PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


class PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_PublicHTTPConnection, req)
