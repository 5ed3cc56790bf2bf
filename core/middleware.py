from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class DefaultLanguageMiddleware(LocaleMiddleware):
    """Azerbaijani unless the user chose another language (the language cookie set by the
    header's switch); the browser's Accept-Language does not override the service's default."""

    def process_request(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()


def _outage_errors() -> tuple[type[BaseException], ...]:
    from django.db import InterfaceError, OperationalError

    errors: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # no Redis client: no Redis cache either
        pass
    else:
        errors += [RedisConnectionError, RedisTimeoutError]
    return tuple(errors)


OUTAGE_ERRORS = _outage_errors()
RETRY_AFTER_SECONDS = 30


class OutageMiddleware:
    """The database or Redis is unreachable (a restart, a fail-over): 503 with ``Retry-After``,
    as problem+json for the API and the branded page otherwise, instead of a 500. The request's
    transaction was rolled back, so nothing was half written; a channel repeats the call with
    the same Idempotency-Key. Counted by the request metrics under status 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        import logging

        from django.http import HttpResponse, JsonResponse
        from django.template.loader import render_to_string
        from django.utils.translation import gettext as _

        logging.getLogger(__name__).error("service unavailable: %s", type(exception).__name__, exc_info=exception)
        title = _("Xidmət müvəqqəti əlçatan deyil")
        detail = _("Sistemin bir hissəsi bir neçə dəqiqəlik bərpa olunur. Bir azdan yenidən cəhd edin.")
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"type": "about:blank", "title": title, "status": 503, "detail": detail},
                                    status=503, content_type="application/problem+json")
        else:
            response = HttpResponse(render_to_string("503.html", {"title": title, "detail": detail}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
