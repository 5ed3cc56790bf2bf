from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record

from .models import LoginMethod, User

SESSION_LOGIN_METHOD = "login_method"


@transaction.atomic
def citizen_login(*, request: HttpRequest, fin: str, first_name: str = "", last_name: str = "",
                  patronymic: str = "", method: str) -> User:
    """Log a citizen in after an identity provider has vouched for the FIN.

    Creates the citizen on first login, refreshes the name (and father's name) the provider
    gives, and keeps the login method with the session (it is stored on every claim filed in it).
    """
    if method not in LoginMethod.values:
        raise ValueError(f"unknown login method {method!r}")
    fin = fin.strip().upper()
    user, created = User.objects.get_or_create(
        fin=fin, defaults={"username": f"citizen-{fin}", "first_name": first_name, "last_name": last_name,
                           "patronymic": patronymic},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif first_name and (user.first_name, user.last_name) != (first_name, last_name):
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    if not created and patronymic and user.patronymic != patronymic:
        user.patronymic = patronymic
        user.save(update_fields=["patronymic"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_LOGIN_METHOD] = method
    audit_record(actor=user, action="citizen_login", after={"method": method},
                 ip=request.META.get("REMOTE_ADDR"))
    return user


def session_login_method(request: HttpRequest) -> str:
    method: str = request.session.get(SESSION_LOGIN_METHOD, LoginMethod.ID_NUMBER)
    return method
