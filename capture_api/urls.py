from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from capture_api import views

urlpatterns = [
    path("api/v1/captures", views.CaptureListCreate.as_view(), name="capture-list"),
    path("api/v1/captures/<uuid:pk>", views.CaptureDetail.as_view(), name="capture-detail"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
