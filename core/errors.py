"""The one error type of every service: a request the product cannot take.

A service raises ``ServiceError`` (or a subclass) before it writes anything; the message is
for the user, in the active language. ``code`` is stable for programs (the API's problem
``code``), ``field`` names the input the message belongs next to (None: the request as a
whole). Forms map it with ``form_add_error``, the API with ``api.problems``.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "refused"
    #: Refused because of who asks (HTTP 403), not because of what is asked (400/409).
    forbidden = False

    def __init__(self, message: Any, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotAllowed(ServiceError):
    """The actor may not make this move on this claim."""

    code = "forbidden"
    forbidden = True


def form_add_error(form: Any, error: ServiceError) -> None:
    """Put a service's refusal next to its field (or above the form when the form has no such
    field): the one mapping of ServiceError to Django forms."""
    field = error.field if error.field and error.field in form.fields else None
    form.add_error(field, error.message)
