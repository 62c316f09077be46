from django.apps import AppConfig


class EmrConfig(AppConfig):
    name = "hub.emr"
    label = "emr"
    verbose_name = "The EMR (FHIR)"

    def ready(self) -> None:
        from hub.emr import checks  # noqa: F401  (registers the start-up checks)
