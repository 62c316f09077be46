"""Finding work that is due or that a crash left behind, so that nothing waits forever.

The database, not the broker, says what is left to do. Retries are never held
as countdown messages (a worker holding them cannot survive a broker restart,
and a message lost with it would lose the retry): each keeps its due time in
its row, and this sweep, run by beat every HUB_SWEEP_INTERVAL_SECONDS, sends
it then. It also sends again what a lost message or a dead worker left: a
lease that expired with no news since, or work quiet for
HUB_RESUME_INTERVAL_SECONDS. Sending twice is always safe: every step claims
before it works. Each item sent has its `updated_at` touched, so it is not
sent again before another quiet interval has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from hub.captures.leases import lease_free
from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import NEXT_STEP
from hub.delivery.commitment import commitments_overdue
from hub.delivery.models import Delivery
from hub.delivery.services import OPEN
from hub.delivery.withdrawals import withdrawals_due


@dataclass(frozen=True)
class Stalled:
    steps: list[tuple[str, str]]  # (step, capture id)
    deliveries: list[int]
    notices: list[str] = field(default_factory=list)  # capture ids
    withdrawals: list[str] = field(default_factory=list)  # capture ids


def step_queue(step: str) -> str:
    """The queue a step's task waits on (see CELERY_TASK_ROUTES)."""
    return settings.HUB_QUEUE_CPU if step in ("inspect", "encapsulate") else settings.HUB_QUEUE_IO


def stalled_work(*, busy_queues: frozenset[str] = frozenset()) -> Stalled:
    """What to send now. Work that is merely quiet (its message perhaps lost) is
    left alone while its queue in `busy_queues` still holds messages: under a
    backlog its message is most likely still waiting there, and sending it
    again would only lengthen the queue. Due retries and lapsed leases are
    sent whatever the queues hold.
    """
    # A Storage Commitment report that did not come in time is a failed try,
    # due again after the retry policy's delay like any other.
    commitments_overdue()
    now = timezone.now()
    quiet_since = now - timedelta(seconds=settings.HUB_RESUME_INTERVAL_SECONDS)
    # A lease that ran out with no news since: its worker died (or its wait ended).
    lapsed = Q(lease_until__lt=now, updated_at__lt=F("lease_until"))
    quiet = Q(updated_at__lt=quiet_since)
    quiet_states = [s for s, step in NEXT_STEP.items() if step_queue(step) not in busy_queues]
    captures = (
        Capture.objects.filter(status__in=list(NEXT_STEP))
        .filter(lease_free())
        .filter(lapsed | (quiet & Q(status__in=quiet_states)))
        .values_list("status", "id")
    )
    io_quiet = quiet if settings.HUB_QUEUE_IO not in busy_queues else Q(pk__in=[])
    deliveries = (
        Delivery.objects.filter(status__in=OPEN)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            Q(next_attempt_at__lte=now, updated_at__lt=F("next_attempt_at")) | lapsed | io_quiet
        )
        .values_list("id", flat=True)
    )
    notices = Capture.objects.filter(
        status=CaptureStatus.ARCHIVED, emr_notice_due_at__lte=now
    ).filter(Q(updated_at__lt=F("emr_notice_due_at")) | quiet)
    return Stalled(
        steps=[(NEXT_STEP[status], str(capture_id)) for status, capture_id in captures],
        deliveries=list(deliveries),
        notices=[str(capture_id) for capture_id in notices.values_list("id", flat=True)],
        withdrawals=withdrawals_due(),
    )


def stalled_sent(stalled: Stalled) -> None:
    """Marks what the sweep sent, so that the next sweep leaves it be for a while."""
    now = timezone.now()
    capture_ids = [capture_id for _, capture_id in stalled.steps] + list(stalled.notices)
    # Only `updated_at`: the status, the lease and the tries stay as they are.
    Capture.objects.filter(id__in=capture_ids).update(updated_at=now)
    Delivery.objects.filter(id__in=stalled.deliveries).update(updated_at=now)
