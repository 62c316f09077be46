from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from capture_api import lookups, views

urlpatterns = [
    path("api/v1/auth/token", views.TokenObtain.as_view(), name="auth-token"),
    path("api/v1/captures", views.CaptureListCreate.as_view(), name="capture-list"),
    # Any string: a malformed id is a 404 in the error envelope, not Django's HTML page.
    path("api/v1/captures/<str:pk>", views.CaptureDetail.as_view(), name="capture-detail"),
    path("api/v1/", include("capture_api.tus.urls")),
    path("api/v1/patients", lookups.PatientSearch.as_view(), name="patient-search"),
    path(
        "api/v1/patients/<str:identifier>/orders",
        lookups.PatientOrders.as_view(),
        name="patient-orders",
    ),
    path(
        "api/v1/patients/<str:identifier>/encounters",
        lookups.PatientEncounters.as_view(),
        name="patient-encounters",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
