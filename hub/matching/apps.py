from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "hub.matching"
    label = "matching"
    verbose_name = "Patients and orders"

    def ready(self) -> None:
        from hub.matching import checks  # noqa: F401  (registers the start-up checks)
