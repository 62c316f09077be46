from django.apps import AppConfig


class DimseConfig(AppConfig):
    name = "hub.dimse"
    label = "dimse"
    verbose_name = "DICOM networking"

    def ready(self) -> None:
        from hub.dimse import checks  # noqa: F401  (registers the start-up checks)
