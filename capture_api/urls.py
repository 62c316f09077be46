from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from capture_api import audit_views, auth, lookups, sessions, views, wounds

urlpatterns = [
    path("api/v1/auth/token", auth.TokenObtain.as_view(), name="auth-token"),
    path("api/v1/auth/tokens", auth.TokenList.as_view(), name="auth-tokens"),
    path(
        "api/v1/auth/tokens/<str:token_key>", auth.TokenRevoke.as_view(), name="auth-token-revoke"
    ),
    path("api/v1/audit", audit_views.AuditExport.as_view(), name="audit"),
    path("api/v1/devices/enroll", auth.DeviceEnroll.as_view(), name="device-enroll"),
    path("api/v1/captures", views.CaptureListCreate.as_view(), name="capture-list"),
    # Any string: a malformed id is a 404 in the error envelope, not Django's HTML page.
    path("api/v1/captures/<str:pk>", views.CaptureDetail.as_view(), name="capture-detail"),
    path("api/v1/sessions", sessions.SessionCreate.as_view(), name="session-list"),
    path("api/v1/sessions/<str:pk>", sessions.SessionDetail.as_view(), name="session-detail"),
    path("api/v1/", include("capture_api.tus.urls")),
    path("dicom-web/", include("capture_api.dicomweb.urls")),
    # The identifier travels in the POST body, never in a URL an access log keeps.
    path("api/v1/patients/search", lookups.PatientSearch.as_view(), name="patient-search"),
    path("api/v1/patients/orders", lookups.PatientOrders.as_view(), name="patient-orders"),
    path(
        "api/v1/patients/encounters", lookups.PatientEncounters.as_view(), name="patient-encounters"
    ),
    path("api/v1/patients/wounds", wounds.PatientWounds.as_view(), name="patient-wounds"),
    path(
        "api/v1/wounds/<str:wound_id>/thumbnail",
        wounds.WoundThumbnail.as_view(),
        name="wound-thumbnail",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
