"""Log a user out after SESSION_IDLE_TIMEOUT seconds without a request.

SESSION_COOKIE_AGE bounds the whole session; this bounds the quiet time inside it (shorter for
staff: STAFF_SESSION_IDLE_TIMEOUT), so a portal
left open on a shared computer does not stay logged in. The last activity is a timestamp in the
session, written at most once a minute (not on every request) to spare the session store.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout, user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

SESSION_LAST_ACTIVITY = "identity_last_activity"
SESSION_STAFF = "identity_staff"  # a staff session: the shorter STAFF_SESSION_IDLE_TIMEOUT applies
WRITE_EVERY = 60  # seconds


def _write_every(timeout: int) -> int:
    return max(1, min(WRITE_EVERY, timeout // 4))


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        timeout = settings.SESSION_IDLE_TIMEOUT
        if session is not None and session.get(SESSION_STAFF):
            timeout = settings.STAFF_SESSION_IDLE_TIMEOUT
        if timeout and session is not None and SESSION_KEY in session:
            now = int(time.time())
            last = session.get(SESSION_LAST_ACTIVITY)
            if last is not None and now - last > timeout:
                logout(request)
                messages.info(
                    request, _("Uzun müddət fəaliyyət olmadığı üçün sessiyanız başa çatdı. Yenidən daxil olun."),
                    fail_silently=True,
                )
            elif last is None or now - last >= _write_every(timeout):
                session[SESSION_LAST_ACTIVITY] = now
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="identity_idle_timeout_start")
def _start_idle_clock(sender, request, user, **kwargs):
    # Start the clock at login, so the first request after it need not write the session.
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LAST_ACTIVITY] = int(time.time())
        if not user.is_citizen:
            request.session[SESSION_STAFF] = True
