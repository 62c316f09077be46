from django.apps import AppConfig


class ListenerConfig(AppConfig):
    name = "hub.listener"
    label = "listener"
    verbose_name = "DICOM listener"
