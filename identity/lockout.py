"""Staff login lockout limits (django-axes): by username and, separately, by address.

Axes counts failures per username and per address (AXES_LOCKOUT_PARAMETERS) and locks when the
larger count reaches one limit. Staff of a branch share an office NAT address, so the address
gets a higher limit (AXES_IP_FAILURE_LIMIT) than a username (AXES_USERNAME_FAILURE_LIMIT):
this returns the username's limit once that username has used it up, the address's otherwise,
which locks exactly when either count reaches its own limit.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def failure_limit(request: HttpRequest, credentials: Any) -> int:
    per_user = settings.AXES_USERNAME_FAILURE_LIMIT
    per_address = max(settings.AXES_IP_FAILURE_LIMIT, per_user)
    username = get_client_username(request, credentials)
    if username:
        failures = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"]
        if (failures or 0) >= per_user:
            return per_user
    return per_address
