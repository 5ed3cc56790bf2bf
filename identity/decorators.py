from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .models import Role, User
from .roles import has_role, is_staff_member
from .services import second_factor_pending


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind ``staff_required``: its user is signed in (django-stubs'
    pattern for annotating such views; at runtime it is a plain HttpRequest)."""

    user: User


_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def staff_required(*roles: str) -> Callable[[_View], _View]:
    """Staff only (citizens and anonymous users go to the staff login); with ``roles``, only
    holders of one of them or administrators (others get 403). A staff member whose second
    factor is pending goes to its page first. A page's gate, not a rule: what a user may do is
    checked again by the service."""

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated or not is_staff_member(user):
                return redirect_to_login(request.get_full_path(), "backoffice:login")
            pending = second_factor_pending(user)
            if pending:
                page = reverse("backoffice:otp_verify" if pending == "verify" else "backoffice:otp_setup")
                return redirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
            if roles and not has_role(user, *roles, Role.ADMINISTRATOR):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(_View, wrapped)

    return decorator
