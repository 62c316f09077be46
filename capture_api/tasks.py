"""Celery tasks of the capture API: interfaces that call one service."""

from __future__ import annotations

from celery import shared_task

from capture_api.tus.service import uploads_expire


@shared_task
def expire_uploads() -> int:
    """Removes abandoned tus uploads past Upload-Expires (run periodically by beat)."""
    return uploads_expire()
