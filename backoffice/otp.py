"""Staff second factor pages: enter the code of the authenticator app after the password, and
set an authenticator up (required for commission members, managers and administrators,
offered to every staff member)."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe

from core.errors import ServiceError, form_add_error
from identity.decorators import AuthenticatedRequest
from identity.roles import is_staff_member
from identity.services import (
    second_factor_pending,
    second_factor_required,
    totp_device,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_verify,
)

from .forms import OtpTokenForm


def _next(request: AuthenticatedRequest) -> str:
    value = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return value if value and ok else reverse("backoffice:queue")


def _staff_only(request: AuthenticatedRequest) -> HttpResponse | None:
    if not is_staff_member(request.user):
        return redirect("backoffice:login")
    return None


@login_required(login_url="backoffice:login")
def otp_verify(request: AuthenticatedRequest) -> HttpResponse:
    refused = _staff_only(request)
    if refused:
        return refused
    if totp_device(request.user) is None:
        return redirect(f"{reverse('backoffice:otp_setup')}?{urlencode({'next': _next(request)})}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_verify(request=request, user=request.user, token=form.cleaned_data["otp_token"])
        except ServiceError as e:
            form_add_error(form, e)
        else:
            return redirect(_next(request))
    return render(request, "backoffice/otp_verify.html", {"form": form, "next": _next(request)},
                  status=400 if form.errors else 200)


@login_required(login_url="backoffice:login")
def otp_setup(request: AuthenticatedRequest) -> HttpResponse:
    refused = _staff_only(request)
    if refused:
        return refused
    user = request.user
    if totp_device(user) is not None and not user.is_verified():  # type: ignore[attr-defined]
        # Replacing an authenticator needs the current one first.
        return redirect(f"{reverse('backoffice:otp_verify')}?{urlencode({'next': reverse('backoffice:otp_setup')})}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_enrol_confirm(request=request, user=user, token=form.cleaned_data["otp_token"])
        except ServiceError as e:
            form_add_error(form, e)
        else:
            return redirect(_next(request))
    device = totp_enrol_begin(user=user)
    secret = base64.b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m")
    return render(request, "backoffice/otp_setup.html", {
        "form": form, "next": _next(request), "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        # segno writes the SVG itself from the otpauth URL: no user input in the markup.
        "qr_svg": mark_safe(qr.svg_inline(scale=5, title="QR")),  # noqa: S308
        "required": second_factor_required(user), "replacing": totp_device(user) is not None,
    }, status=400 if form.errors else 200)


class OfficeAdminSite(AdminSite):
    """The administration pages behind the staff login: the password, the lockout and the second
    factor of the back office apply (the admin's own login form would bypass the last two)."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not second_factor_pending(request.user)  # type: ignore[arg-type]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        nxt = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and second_factor_pending(request.user):
            return redirect(f"{reverse('backoffice:otp_verify')}?{urlencode({'next': nxt})}")
        return redirect(f"{reverse('backoffice:login')}?{urlencode({'next': nxt})}")
