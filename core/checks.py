"""System checks for a production configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With DEBUG off the rate limits, the foreign-account budget and the locks need one cache
    shared by every process; a per-process cache lets each process count on its own."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            f"The default cache ({backend}) lives in each process: rate limits and the foreign-account "
            "budget would not be shared.",
            hint="Set CACHE_URL=redis://host:6379/0 (or DEBUG=true on a developer's machine).",
            id="core.E001",
        )
    ]
