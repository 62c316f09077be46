"""Claiming and finishing a pipeline step with conditional updates.

A step is claimed by setting a lease on a capture still in the step's input
state; if no row was updated, another worker holds it or the capture has
moved on, and the caller does nothing. A worker that dies leaves an expired
lease, which lets the step be taken again (see `resume`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus


def lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())


def claim_step(capture_id: UUID | str, from_status: CaptureStatus) -> Capture | None:
    now = timezone.now()
    claimed = (
        Capture.objects.filter(id=capture_id, status=from_status)
        .filter(lease_free())
        .update(lease_until=now + timedelta(seconds=settings.HUB_STEP_LEASE_SECONDS))
    )
    if not claimed:
        return None
    return Capture.objects.get(id=capture_id)


def finish_step(
    capture: Capture, from_status: CaptureStatus, to_status: CaptureStatus, **fields: Any
) -> bool:
    """Moves the capture on; False if it was no longer in `from_status`."""
    moved = Capture.objects.filter(id=capture.id, status=from_status).update(
        status=to_status, lease_until=None, updated_at=timezone.now(), **fields
    )
    return moved == 1


def release_step(capture: Capture) -> None:
    Capture.objects.filter(id=capture.id).update(lease_until=None)
