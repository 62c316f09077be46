"""Finding work a crash left behind, so that nothing waits forever.

A task message can be lost between a commit and its enqueue, or a worker can
die holding a lease; both leave a capture in a working state with no task on
its way. Re-enqueueing is always safe: every step claims before it works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hub.captures.leases import lease_free
from hub.captures.models import Capture
from hub.captures.states import NEXT_STEP
from hub.delivery.models import Delivery
from hub.delivery.services import OPEN


@dataclass(frozen=True)
class Stalled:
    steps: list[tuple[str, str]]  # (step, capture id)
    deliveries: list[int]


def stalled_work() -> Stalled:
    quiet_since = timezone.now() - timedelta(seconds=settings.HUB_RESUME_INTERVAL_SECONDS)
    captures = (
        Capture.objects.filter(status__in=list(NEXT_STEP), updated_at__lt=quiet_since)
        .filter(lease_free())
        .values_list("status", "id")
    )
    now = timezone.now()
    deliveries = (
        Delivery.objects.filter(status__in=OPEN, updated_at__lt=quiet_since)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("id", flat=True)
    )
    return Stalled(
        steps=[(NEXT_STEP[status], str(capture_id)) for status, capture_id in captures],
        deliveries=list(deliveries),
    )
