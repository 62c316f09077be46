from django.contrib import admin
from django.urls import include, path

from hub.accounts import oidc
from hub.health import healthz
from hub.landing import landing
from hub.pwa import capture_app

urlpatterns = [
    path("admin/", admin.site.urls),
    path("oidc/", include(oidc.urlpatterns)),
    path("", landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("capture/", capture_app, name="capture-app"),
    path("capture/<path:asset>", capture_app),
    path("", include("capture_api.urls")),
]
