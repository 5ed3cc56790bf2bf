import logging

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from .forms import DevLoginForm
from .models import User
from .providers import LoginRefused, get_provider
from .providers.base import Identity
from .services import citizen_login

logger = logging.getLogger("identity.sso")

SESSION_NEXT = "identity_login_next"
SESSION_ID_TOKEN = "identity_id_token"  # noqa: S105 - a session key name, not a secret


def _safe_next(request: HttpRequest, value: str) -> str:
    ok = url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return value if value and ok else ""


def _demo_citizens():
    return list(User.objects.filter(fin__isnull=False).order_by("last_name", "first_name")[:30])


def dev_login_view(request: HttpRequest) -> HttpResponse:
    """The development identity provider: offers the five login methods of the manual.

    Refused unless DEV_LOGIN_ENABLED is on; in production the national SSO logs citizens in.
    """
    if not settings.DEV_LOGIN_ENABLED:
        if not get_provider().is_development:
            raise Http404  # the national SSO is configured: this page does not exist
        # No national SSO is configured and the development page is off: say so, in the
        # citizen's language, instead of a bare “Not Found”.
        return render(request, "identity/login_unavailable.html", status=503)
    nxt = _safe_next(request, request.GET.get("next") or request.POST.get("next") or "")
    form = DevLoginForm(request.POST if request.method == "POST" else None, demo_citizens=_demo_citizens())
    if request.method == "POST" and form.is_valid():
        fin = form.cleaned_data["fin"] or form.cleaned_data["demo_fin"]
        citizen_login(request=request, fin=fin, first_name=form.cleaned_data["first_name"],
                      last_name=form.cleaned_data["last_name"], method=form.cleaned_data["method"])
        return redirect(nxt or "portal:home")
    return render(request, "identity/dev_login.html", {"form": form, "next": nxt})


def login_view(request: HttpRequest) -> HttpResponse:
    """/auth/login/: the configured identity provider's way in (a redirect to the national SSO,
    or the development page when that is the provider)."""
    provider = get_provider()
    if provider.is_development:
        return provider.begin(request)
    nxt = _safe_next(request, request.GET.get("next", ""))
    request.session[SESSION_NEXT] = nxt
    try:
        return provider.begin(request)
    except LoginRefused as refused:
        return _refused(request, refused, nxt)


@require_GET
def callback_view(request: HttpRequest) -> HttpResponse:
    """/auth/callback/: the provider sends the citizen back here; log them in or say why not."""
    nxt = request.session.pop(SESSION_NEXT, "")
    try:
        identity: Identity = get_provider().complete(request)
    except LoginRefused as refused:
        return _refused(request, refused, nxt)
    citizen_login(request=request, fin=identity.fin, first_name=identity.first_name, last_name=identity.last_name,
                  patronymic=identity.patronymic, method=identity.method)
    if identity.id_token:
        request.session[SESSION_ID_TOKEN] = identity.id_token
    return redirect(nxt or "portal:home")


def _refused(request: HttpRequest, refused: LoginRefused, nxt: str) -> HttpResponse:
    logger.warning("citizen login refused (%s, HTTP %s): %s", settings.IDENTITY_PROVIDER, refused.status,
                   refused.detail or refused.reason)
    retry = reverse("identity:login") + (f"?{urlencode({'next': nxt})}" if nxt else "")
    return render(request, "identity/login_refused.html", {"reason": refused.reason, "retry_url": retry},
                  status=refused.status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the portal session; after an OpenID Connect login, end the SSO session too
    (RP-initiated logout with id_token_hint) when the provider offers it."""
    id_token = request.session.get(SESSION_ID_TOKEN, "")
    logout(request)
    if id_token:
        url = get_provider().logout_url(request, id_token=id_token)
        if url:
            return redirect(url)
    return redirect("portal:home")
