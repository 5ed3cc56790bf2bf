from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.static import serve

from backoffice.otp import OfficeAdminSite
from core import branding, health, metrics

admin.site.__class__ = OfficeAdminSite  # the staff login and its second factor guard the admin too

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("brand.css", branding.brand_css, name="brand_css"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("auth/", include("identity.urls")),
    path("dev/", include("notifications.urls")),
    path("office/", include("backoffice.urls")),
    path("office/visits/", include("inspections.urls")),
    path("office/commission/", include("commission.urls")),
    path("", include("portal.urls")),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
