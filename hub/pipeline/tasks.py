"""Every Celery task of the hub: each takes an id, calls one service, and
enqueues what comes next once that service has committed.

inspect -> match -> encapsulate -> (measure, for a wound or burn photo) ->
start_delivery -> deliver (one per destination) -> withdraw_replaced and
notify_emr once archived. The resume sweep re-enqueues whatever a lost
message or a dead worker left behind, and sends retries when they are due: no
task schedules a message for later (see `hub.pipeline.resume` for why).

Each task runs inside `leases_renewed`, the heartbeat that keeps the leases
its service claims alive for as long as it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from kombu.exceptions import ChannelError, OperationalError

from hub.captures.leases import (
    capture_notice_claim,
    capture_notice_due,
    capture_notice_failed,
    capture_step_error,
    leases_renewed,
)
from hub.captures.orphans import originals_orphans_remove
from hub.captures.retention import captures_purge_expired
from hub.delivery.services import (
    capture_deliveries_start,
    capture_delivery_retry,
    delivery_attempt,
    delivery_capture_id,
)
from hub.delivery.withdrawals import capture_withdrawals_run
from hub.emr.writeback import capture_notify_emr
from hub.matching.services import capture_match
from hub.pipeline.measure import capture_measure, measurement_due
from hub.pipeline.resume import stalled_sent, stalled_work
from hub.pipeline.steps import capture_encapsulate, capture_inspect, capture_step_retry

log = logging.getLogger(__name__)


def send(task: Any, *args: Any) -> None:
    """Enqueues a task; a broker that is down loses nothing, the sweep sends it later."""
    try:
        task.delay(*args)
    except OperationalError as error:
        log.warning("could not enqueue %s%r (the sweep will): %s", task.name, args, error)


@contextmanager
def step(capture_id: str) -> Iterator[None]:
    """The heartbeat for the step's lease; what it raised is kept on the capture."""
    with leases_renewed():
        try:
            yield
        except Exception as error:
            capture_step_error(capture_id, error)
            raise


@shared_task
def inspect_capture(capture_id: str) -> None:
    with step(capture_id):
        moved = capture_inspect(capture_id=capture_id)
    if moved:
        send(match_capture, capture_id)


@shared_task
def match_capture(capture_id: str) -> None:
    # While the EMR is down the capture's lease says when to look again; the sweep does.
    with step(capture_id):
        result = capture_match(capture_id=capture_id)
    if result.moved:
        send(encapsulate_capture, capture_id)


@shared_task
def encapsulate_capture(capture_id: str) -> None:
    with step(capture_id):
        moved = capture_encapsulate(capture_id=capture_id)
    if moved:
        # Opening the deliveries is a few rows, no I/O: done here rather than one
        # message later, so that a capture is never seen `encapsulated` without
        # either its deliveries, the reason it has none, or a measurement due.
        start_delivery(capture_id)


@shared_task
def measure_capture(capture_id: str) -> None:
    """A wound photo's measurement (cpu); recorded or refused, delivery follows."""
    with step(capture_id):
        finished = capture_measure(capture_id=capture_id)
    if finished:
        start_delivery(capture_id)


@shared_task
def start_delivery(capture_id: str) -> None:
    # Also the sweep's step for an `encapsulated` capture: one still to be
    # measured is measured first.
    if measurement_due(capture_id):
        send(measure_capture, capture_id)
        return
    with step(capture_id):
        delivery_ids = capture_deliveries_start(capture_id=capture_id)
    enqueue_deliveries(delivery_ids)


@shared_task
def deliver(delivery_id: int) -> None:
    # A transient failure sets the delivery's next_attempt_at; the sweep sends it then.
    with leases_renewed():
        outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.archived:
        capture_id = delivery_capture_id(delivery_id=delivery_id)
        send(withdraw_replaced, capture_id)
        send(notify_emr, capture_id)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        send(deliver, delivery_id)


@shared_task
def retry_capture_delivery(capture_id: str) -> None:
    """An operator's retry of a failed capture: the step it failed at, or its deliveries."""
    step_name = capture_step_retry(capture_id=capture_id)
    if step_name is not None:
        send(STEP_TASKS[step_name], capture_id)
        return
    enqueue_deliveries(capture_delivery_retry(capture_id=capture_id))


@shared_task
def withdraw_replaced(capture_id: str) -> None:
    """After a corrected capture is archived: withdraw what it replaced (IOCM)."""
    capture_withdrawals_run(capture_id=capture_id)


@shared_task
def notify_emr(capture_id: str) -> None:
    """After archiving: the EMR learns of the capture (configurable off)."""
    if not capture_notice_claim(capture_id):
        return
    try:
        retry_in = capture_notify_emr(capture_id=capture_id)
    except Exception as error:
        capture_notice_failed(capture_id, error)
        raise
    capture_notice_due(capture_id, retry_in)


STEP_TASKS = {
    "inspect": inspect_capture,
    "match": match_capture,
    "encapsulate": encapsulate_capture,
    "deliver": start_delivery,
}


def busy_queues(broker_url: str | None = None) -> frozenset[str]:
    """The hub's queues that hold messages now (on the app's broker unless named)."""
    busy = set()
    try:
        with current_app.connection_for_read(broker_url) as connection:
            for queue in (settings.HUB_QUEUE_CPU, settings.HUB_QUEUE_IO):
                try:
                    declared = connection.default_channel.queue_declare(queue=queue, passive=True)
                except ChannelError:  # no such queue yet: nothing waits in it
                    continue
                if declared.message_count:
                    busy.add(queue)
    except Exception:  # whatever the broker fails to say, sending again is the safe side
        log.warning("cannot read the queues' lengths; the sweep sends quiet work again")
        return frozenset()
    return frozenset(busy)


@shared_task
def resume_stalled_captures() -> None:
    stalled = stalled_work(busy_queues=busy_queues())
    stalled_sent(stalled)
    for step_name, capture_id in stalled.steps:
        log.warning("resuming capture %s at step %s", capture_id, step_name)
        send(STEP_TASKS[step_name], capture_id)
    enqueue_deliveries(stalled.deliveries)
    for capture_id in stalled.notices:
        send(notify_emr, capture_id)
    for capture_id in stalled.withdrawals:
        send(withdraw_replaced, capture_id)


@shared_task
def remove_orphan_originals() -> None:
    originals_orphans_remove()


@shared_task
def purge_expired_captures() -> None:
    captures_purge_expired()
