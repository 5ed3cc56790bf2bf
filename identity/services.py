from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record
from core.errors import ServiceError

from .models import LoginMethod, User
from .names import clean_name

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
    # A name with control characters or markup is not stored (it would go into e-mails and SMS).
    first_name, last_name, patronymic = clean_name(first_name), clean_name(last_name), clean_name(patronymic)
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


# ---------------------------------------------------------------------------------------------
# Second factor of staff logins (django-otp, TOTP)


def second_factor_required(user: User) -> bool:
    """The user's roles demand a second factor (settings.STAFF_OTP_REQUIRED_ROLES: commission
    members, branch managers and administrators by default)."""
    from .roles import has_role

    return has_role(user, *settings.STAFF_OTP_REQUIRED_ROLES)


def totp_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_pending(user: User) -> str:
    """What a logged-in staff member must still do before the staff pages: "verify" (enter a
    code of their authenticator), "enrol" (set one up: their role requires it), or "" (nothing).
    A staff member who enrolled voluntarily is asked for the code too."""
    if user.is_verified():  # type: ignore[attr-defined]  # set by django_otp's OTPMiddleware
        return ""
    if totp_device(user) is not None:
        return "verify"
    return "enrol" if second_factor_required(user) else ""


@transaction.atomic
def totp_enrol_begin(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up (a new secret, or the one shown
    before while they have not confirmed it)."""
    if user.is_citizen:
        raise ServiceError(_("İki mərhələli giriş yalnız əməkdaşlar üçündür."))
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_enrol_confirm(*, request: HttpRequest, user: User, token: str) -> TOTPDevice:
    """Confirm the authenticator being set up with a code it shows; the session counts as
    verified from now on. Any earlier authenticator of the user is replaced."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ServiceError(_("Əvvəlcə autentifikator tətbiqini qurun."))
    if not device.verify_token(token.strip()):
        raise ServiceError(_("Kod düzgün deyil. Tətbiqdəki cari 6 rəqəmli kodu daxil edin."), field="otp_token")
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    audit_record(actor=user, action="second_factor_enrolled", object_type="totp_device", object_id=str(device.pk),
                 ip=request.META.get("REMOTE_ADDR"))
    return device


def totp_verify(*, request: HttpRequest, user: User, token: str) -> TOTPDevice:
    """Check a code of the user's authenticator (throttled by django-otp after failures; a code
    is accepted once); the session counts as verified from now on."""
    device = totp_device(user)
    if device is None:
        raise ServiceError(_("Autentifikator qurulmayıb."))
    verified = verify_token(user, device.persistent_id, token.strip())
    if verified is None:
        with transaction.atomic():
            audit_record(actor=user, action="second_factor_failed", object_type="totp_device",
                         object_id=str(device.pk), ip=request.META.get("REMOTE_ADDR"))
        raise ServiceError(_("Kod düzgün deyil və ya vaxtı keçib. Tətbiqdəki cari kodu daxil edin."),
                           field="otp_token")
    otp_login(request, verified)
    return verified
