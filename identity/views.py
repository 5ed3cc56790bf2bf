from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import DevLoginForm
from .models import User
from .services import citizen_login


def _demo_citizens():
    return list(User.objects.filter(fin__isnull=False).order_by("last_name", "first_name")[:30])


def login_view(request: HttpRequest) -> HttpResponse:
    """The development identity provider: offers the five login methods of the manual.

    Refused unless DEV_LOGIN_ENABLED is on; in production the national SSO logs citizens in.
    """
    if not settings.DEV_LOGIN_ENABLED:
        raise Http404
    nxt = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = ""
    form = DevLoginForm(request.POST if request.method == "POST" else None, demo_citizens=_demo_citizens())
    if request.method == "POST" and form.is_valid():
        fin = form.cleaned_data["fin"] or form.cleaned_data["demo_fin"]
        citizen_login(request=request, fin=fin, first_name=form.cleaned_data["first_name"],
                      last_name=form.cleaned_data["last_name"], method=form.cleaned_data["method"])
        return redirect(nxt or "portal:home")
    return render(request, "identity/dev_login.html", {"form": form, "next": nxt})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")
