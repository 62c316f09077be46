from django.urls import path

from capture_api.dicomweb import views

urlpatterns = [
    path("studies", views.StoreInstances.as_view(), name="dicomweb-stow"),
    path("studies/<str:study>", views.StoreInstances.as_view(), name="dicomweb-stow-study"),
]
