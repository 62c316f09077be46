from django.apps import AppConfig

from hub.celery import app

# How often abandoned tus uploads past their Upload-Expires are removed.
EXPIRE_UPLOADS_SECONDS = 3600.0


class CaptureApiConfig(AppConfig):
    name = "capture_api"
    verbose_name = "Capture API"

    def ready(self) -> None:
        # The API schedules its own periodic work: the hub's settings know nothing of it.
        app.conf.beat_schedule = {
            **app.conf.beat_schedule,
            "expire-uploads": {
                "task": "capture_api.tasks.expire_uploads",
                "schedule": EXPIRE_UPLOADS_SECONDS,
            },
        }
