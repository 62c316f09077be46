"""Claiming a capture for one step, and letting it go.

A step is claimed by setting a lease on a capture still in the step's input
state; if no row was updated, another worker holds it or the capture has
moved on, and the caller does nothing. A worker that dies leaves an expired
lease, which lets the step be taken again (see `hub.pipeline.resume`).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus


def lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())


def capture_claim(capture_id: UUID | str, status: CaptureStatus) -> Capture | None:
    """The capture, leased to the caller, if it is in `status` and nobody holds it."""
    now = timezone.now()
    claimed = (
        Capture.objects.filter(id=capture_id, status=status)
        .filter(lease_free())
        .update(lease_until=now + timedelta(seconds=settings.HUB_STEP_LEASE_SECONDS))
    )
    if not claimed:
        return None
    return Capture.objects.get(id=capture_id)


def capture_release(capture: Capture) -> None:
    """Gives the lease back without moving the capture (the step will be tried again)."""
    Capture.objects.filter(id=capture.id).update(lease_until=None)
