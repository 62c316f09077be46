from django.apps import AppConfig


class CapturesConfig(AppConfig):
    name = "hub.captures"
    label = "captures"
    verbose_name = "Captures"
