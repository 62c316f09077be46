from django.apps import AppConfig


class WoundsConfig(AppConfig):
    name = "hub.wounds"
    label = "wounds"
    verbose_name = "Wounds"
