"""The Celery application: configured from Django settings (CELERY_*)."""

import os

from celery import Celery, signals

from hub.worker_memory import keep_freed_memory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_checked(**_: object) -> None:
    """Around each task: a connection kept across tasks (CELERY_DB_REUSE_MAX) is
    closed if it broke (a database restart) or outlived CONN_MAX_AGE, and checked
    before its next use (CONN_HEALTH_CHECKS), as Django does around requests."""
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_process_init.connect
def _freed_memory_kept(**_: object) -> None:
    """Each pool process keeps what a task frees for the next (hub/worker_memory.py)."""
    keep_freed_memory()
