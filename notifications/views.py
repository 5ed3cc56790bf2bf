from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from identity.decorators import staff_required

from .selectors import delivery_list

OUTBOX_PAGE_SIZE = 50


@require_GET
@staff_required()
def outbox(request: HttpRequest) -> HttpResponse:
    """Development outbox: every e-mail and SMS the product wrote, whatever the backends did
    with them. It shows personal data, so it exists only where the development login does, and
    only to a logged-in staff member."""
    if not settings.DEV_LOGIN_ENABLED:
        raise Http404
    page = Paginator(delivery_list(), OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/outbox.html", {"page_obj": page, "deliveries": page.object_list})
