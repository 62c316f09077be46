"""Claiming a capture for one step, keeping it while the step runs, and letting it go.

A step is claimed by setting a lease on a capture still in the step's input
state; if no row was updated, another worker holds it or the capture has
moved on, and the caller does nothing. Leases are short (HUB_STEP_LEASE_SECONDS)
and renewed by a heartbeat while the task runs (`leases_renewed`), so a dead
worker's step is taken again soon after its last heartbeat while a live long
step (a video transcode) is never taken twice. A worker that dies leaves an
expired lease, which lets the step be taken again (see `hub.pipeline.resume`).

Every claim counts a try of the step; a capture whose step has used up
HUB_STEP_MAX_ATTEMPTS (crashed, timed out or killed each time) is moved to
`failed` with the last error instead, for a person to look at.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import NEXT_STEP, capture_move
from hub.retry import RetryPolicy

log = logging.getLogger(__name__)

Renewal = Callable[[], bool]
_renewals: ContextVar[list[Renewal] | None] = ContextVar("lease_renewals", default=None)


def lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())


def lease_expiry() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.HUB_STEP_LEASE_SECONDS)


def lease_token() -> str:
    return uuid.uuid4().hex


def lease_renewal_register(renew: Renewal) -> None:
    """Has the running task's heartbeat call `renew` until the task ends.

    `renew` returns False once the lease is no longer the caller's.
    Outside `leases_renewed` (a test calling a service) nothing renews it.
    """
    held = _renewals.get()
    if held is not None:
        held.append(renew)


@contextmanager
def leases_renewed(every: float | None = None) -> Iterator[None]:
    """While the block runs, a thread renews every lease claimed inside it.

    The thread has its own database connection and never touches anything
    but the leases; it stops when the block ends, however it ends.
    """
    held: list[Renewal] = []
    context_token = _renewals.set(held)
    interval = every if every is not None else settings.HUB_STEP_LEASE_SECONDS / 3
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                for renew in list(held):
                    try:
                        if not renew():
                            held.remove(renew)
                    except Exception:  # a database hiccup: the next beat tries again
                        log.warning("lease heartbeat failed", exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        _renewals.reset(context_token)
        thread.join(timeout=interval + 30)


def _step_exhausted(capture_id: UUID | str, status: CaptureStatus) -> None:
    capture = (
        Capture.objects.filter(
            id=capture_id, status=status, step_attempts__gte=settings.HUB_STEP_MAX_ATTEMPTS
        )
        .filter(lease_free())
        .first()
    )
    if capture is None:
        return
    step = NEXT_STEP.get(status, str(status))
    why = capture.step_error or "the worker was killed or ran out of time each time"
    reason = (
        f"the {step} step was tried {capture.step_attempts} times without finishing; "
        f"last: {why}. Fix the cause, then retry the capture from the admin."
    )
    log.error("capture %s failed: %s", capture.id, reason)
    capture_move(capture.id, source=status, target=CaptureStatus.FAILED, reason=reason)


def capture_claim(capture_id: UUID | str, status: CaptureStatus) -> Capture | None:
    """The capture, leased to the caller, if it is in `status` and nobody holds it."""
    token = lease_token()
    claimed = (
        Capture.objects.filter(
            id=capture_id, status=status, step_attempts__lt=settings.HUB_STEP_MAX_ATTEMPTS
        )
        .filter(lease_free())
        .update(
            lease_until=lease_expiry(),
            lease_owner=token,
            step_attempts=F("step_attempts") + 1,
            updated_at=timezone.now(),
        )
    )
    if not claimed:
        _step_exhausted(capture_id, status)
        return None

    def renew() -> bool:
        return bool(
            Capture.objects.filter(id=capture_id, lease_owner=token).update(
                lease_until=lease_expiry()
            )
        )

    lease_renewal_register(renew)
    return Capture.objects.get(id=capture_id)


def capture_release(capture: Capture, error: BaseException | None = None) -> None:
    """Gives the lease back without moving the capture (the step will be tried again).

    The try still counts; `error` is kept as what the next person reads should
    the step use up its attempts.
    """
    fields: dict[str, object] = {"lease_until": None, "lease_owner": ""}
    if error is not None:
        fields["step_error"] = f"{type(error).__name__}: {error}"[:2000]
    Capture.objects.filter(id=capture.id, lease_owner=capture.lease_owner).update(
        updated_at=timezone.now(), **fields
    )


def capture_step_error(capture_id: UUID | str, error: BaseException) -> None:
    """Keeps what a step raised (its lease runs out and the step is tried again)."""
    Capture.objects.filter(id=capture_id).update(
        step_error=f"{type(error).__name__}: {error}"[:2000], updated_at=timezone.now()
    )


def capture_notice_claim(capture_id: UUID | str) -> bool:
    """Takes the capture's EMR notice if it is due; its due time doubles as the lease."""
    now = timezone.now()
    return bool(
        Capture.objects.filter(
            id=capture_id, status=CaptureStatus.ARCHIVED, emr_notice_due_at__lte=now
        ).update(emr_notice_due_at=lease_expiry(), updated_at=now)
    )


def capture_notice_due(capture_id: UUID | str, retry_in: float | None) -> None:
    """The notice is done (None) or due again in `retry_in` seconds."""
    due = None if retry_in is None else timezone.now() + timedelta(seconds=retry_in)
    Capture.objects.filter(id=capture_id).update(emr_notice_due_at=due, updated_at=timezone.now())


def capture_notice_failed(capture_id: UUID | str, error: BaseException) -> None:
    """A notice that raised: due again after a backoff, until its tries are used up."""
    capture = Capture.objects.get(id=capture_id)
    policy = RetryPolicy(
        base_seconds=settings.HUB_WRITEBACK_RETRY_BASE_SECONDS,
        max_seconds=settings.HUB_WRITEBACK_RETRY_MAX_SECONDS,
        max_attempts=settings.HUB_WRITEBACK_MAX_ATTEMPTS,
    )
    why = f"{type(error).__name__}: {error}"[:2000]
    if policy.exhausted(capture.emr_attempts):
        fields: dict[str, object] = {"emr_notice_due_at": None, "emr_notice": f"gave up: {why}"}
    else:
        delay = timedelta(seconds=policy.delay(max(capture.emr_attempts, 1)))
        fields = {"emr_notice_due_at": timezone.now() + delay, "emr_notice": f"waiting: {why}"}
    Capture.objects.filter(id=capture_id).update(updated_at=timezone.now(), **fields)
