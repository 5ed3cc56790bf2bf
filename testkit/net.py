"""Ports for the processes tests start, and for services a test wants down."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on (free when this returns)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
