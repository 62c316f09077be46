from django.apps import AppConfig


class CaptureApiConfig(AppConfig):
    name = "capture_api"
    verbose_name = "Capture API"
