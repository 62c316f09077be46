from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hub.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from hub.accounts import checks  # noqa: F401  (registers the start-up checks)
