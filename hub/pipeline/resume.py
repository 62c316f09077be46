"""Finding work that is due or that a crash left behind, so that nothing waits forever.

The database, not the broker, says what is left to do. Retries are never held
as countdown messages (a worker holding them cannot survive a broker restart,
and a message lost with it would lose the retry): each keeps its due time in
its row, and this sweep, run by beat every HUB_SWEEP_INTERVAL_SECONDS, sends
it then. It also sends again what a lost message or a dead worker left: a
lease that expired with no news since, or work quiet for
HUB_RESUME_INTERVAL_SECONDS. Sending twice is always safe: every step claims
before it works. Even so a sweep sends an item only once it has claimed it:
`stalled_sent` touches the row's `updated_at` on the condition that it still
holds the value the sweep read, so of two sweeps (two beats) that read the
same rows, one sends each item and the other nothing; and the item is not
sent again before another quiet interval has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from hub.pipeline.measure import DUE


@dataclass(frozen=True)
class Stalled:
    steps: list[tuple[str, str]]  # (step, capture id)
    deliveries: list[int]
    notices: list[str] = field(default_factory=list)  # capture ids
    withdrawals: list[str] = field(default_factory=list)  # capture ids
    # The `updated_at` each row had when it was read, for `stalled_sent`'s claim.
    seen: dict[str | int, datetime] = field(default_factory=dict, compare=False, repr=False)


def step_queue(step: str) -> str:
    """The queue a step's task waits on (see CELERY_TASK_ROUTES)."""
    cpu = ("inspect", "encapsulate", "measure")
    return settings.HUB_QUEUE_CPU if step in cpu else settings.HUB_QUEUE_IO


def _step(status: str, measurement_state: str) -> str:
    # An encapsulated capture still to be measured resumes at its measurement
    # (cpu), which opens its deliveries once done.
    if status == CaptureStatus.ENCAPSULATED and measurement_state == DUE:
        return "measure"
    return NEXT_STEP[CaptureStatus(status)]


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
    measuring = Q(status=CaptureStatus.ENCAPSULATED, measurement_state=DUE)
    if step_queue("measure") in busy_queues:
        quiet_states_q = Q(status__in=quiet_states) & ~measuring
    else:
        quiet_states_q = Q(status__in=quiet_states) | measuring
    captures = (
        Capture.objects.filter(status__in=list(NEXT_STEP))
        .filter(lease_free())
        .filter(lapsed | (quiet & quiet_states_q))
        .values_list("status", "measurement_state", "id", "updated_at")
    )
    io_quiet = quiet if settings.HUB_QUEUE_IO not in busy_queues else Q(pk__in=[])
    deliveries = (
        Delivery.objects.filter(status__in=OPEN)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            Q(next_attempt_at__lte=now, updated_at__lt=F("next_attempt_at")) | lapsed | io_quiet
        )
        .values_list("id", "updated_at")
    )
    notices = (
        Capture.objects.filter(status=CaptureStatus.ARCHIVED, emr_notice_due_at__lte=now)
        .filter(Q(updated_at__lt=F("emr_notice_due_at")) | quiet)
        .values_list("id", "updated_at")
    )
    seen: dict[str | int, datetime] = {}
    steps = []
    for status, measurement_state, capture_id, updated_at in captures:
        steps.append((_step(status, measurement_state), str(capture_id)))
        seen[str(capture_id)] = updated_at
    notice_ids = []
    for capture_id, updated_at in notices:
        notice_ids.append(str(capture_id))
        seen[str(capture_id)] = updated_at
    delivery_ids = []
    for delivery_id, updated_at in deliveries:
        delivery_ids.append(delivery_id)
        seen[delivery_id] = updated_at
    return Stalled(
        steps=steps,
        deliveries=delivery_ids,
        notices=notice_ids,
        withdrawals=withdrawals_due(),
        seen=seen,
    )


def stalled_sent(stalled: Stalled) -> Stalled:
    """Claims what the sweep is about to send; returns the part this sweep won.

    Each row's `updated_at` is set to now on the condition that it is still
    what `stalled_work` read: a row another sweep claimed since (or a step
    touched) is left to it. Only `updated_at` changes: the status, the lease
    and the tries stay as they are. Withdrawals claim their rows themselves
    when they run (`capture_withdrawals_run`), so they are passed on as read.
    """
    now = timezone.now()

    def claimed(model: type[Capture] | type[Delivery], key: str | int) -> bool:
        seen = stalled.seen.get(key)
        rows = model.objects.filter(id=key)
        rows = rows.filter(updated_at=seen) if seen is not None else rows
        return bool(rows.update(updated_at=now))

    return Stalled(
        steps=[(step, key) for step, key in stalled.steps if claimed(Capture, key)],
        deliveries=[key for key in stalled.deliveries if claimed(Delivery, key)],
        notices=[key for key in stalled.notices if claimed(Capture, key)],
        withdrawals=list(stalled.withdrawals),
    )
