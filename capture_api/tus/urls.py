"""Routes of the tus endpoint; the collection answers with or without its slash."""

from django.urls import path

from capture_api.tus import views

urlpatterns = [
    path("uploads", views.UploadCreateUnslashed.as_view()),
    path("uploads/", views.UploadCreate.as_view(), name="tus-uploads"),
    path("uploads/<str:upload_id>", views.UploadResource.as_view(), name="tus-upload"),
]
