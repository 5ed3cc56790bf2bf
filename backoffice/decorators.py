from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .access import has_role, is_staff_member


def staff_required(*roles: str):
    """Staff only (citizens and anonymous users go to the staff login); with ``roles``, only
    holders of one of them (others get 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or not is_staff_member(user):
                return redirect_to_login(request.get_full_path(), "backoffice:login")
            if roles and not has_role(user, *roles, "administrator"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
