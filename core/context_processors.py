from django.conf import settings


def organisation(request):
    return {"ORG": settings.ORGANISATION, "DEV_LOGIN_ENABLED": settings.DEV_LOGIN_ENABLED}
