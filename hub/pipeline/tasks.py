"""Every Celery task of the hub: each takes an id, calls its services, and
enqueues what comes next once they have committed.

A capture's steps: inspect -> match -> encapsulate -> (measure, for a wound or
burn photo) -> deliveries opened -> deliver (one per destination) -> the
withdrawal of what it replaced and the EMR notice once archived. In tasks:
`inspect_capture` (cpu) runs every step up to the deliveries opened when
matching asks no other service, else up to inspection, then `match_capture`
(io) and `encapsulate_capture` (cpu); `deliver` (io) runs the follow-ups of the
delivery that archives the capture. The resume sweep re-enqueues whatever a lost
message or a dead worker left behind, and sends retries when they are due: no
task schedules a message for later (see `hub.pipeline.resume` for why).

Each task runs inside `leases_renewed`, the heartbeat that keeps the leases
its services claim alive for as long as it runs.
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
from hub.captures.orphans import orphans_remove
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


# A capture's steps that need no other service run back to back in one task:
# inspect, match (when neither an EMR nor a worklist is configured: the
# context is taken as sent), encapsulate, measure, and opening the deliveries.
# Each step still claims its capture and moves it on by itself, so a crash
# between two of them leaves the capture in the state it reached and the sweep
# resumes it at the next step; the one heartbeat (`leases_renewed`) renews
# whichever step's lease is held. A step that needs another service (a look-up
# in the EMR or the worklist, a delivery, a notice) is a task of its own on the
# io queue, so that the cpu queue's workers never wait on the network.
#
# A capture's first step also waits behind the later steps of the captures
# already in flight (the priority of its route in CELERY_TASK_ROUTES), so that
# in a burst each capture's latency is its own work, not the backlog's.
# Message priority is what works on both brokers: kombu's Redis transport
# keeps a list per priority and pops priority 0 first, and the embedded
# filesystem broker's transport names its files so that they sort that way
# (`hub.pipeline.broker`). Two queues per kind would not do it: a worker
# consuming several queues takes them in turn. With the steps chained, what
# still crosses queues is the encapsulation after a remote match, the
# measurement a sweep resumes, and the deliveries.


def matching_is_local() -> bool:
    """True when matching asks no other service (no HUB_FHIR_URL, no HUB_MWL_HOST:
    the same settings `fhir_client_from_settings` and `worklist_client_from_settings`
    read), so that it may run on the cpu queue between inspection and encapsulation."""
    return not getattr(settings, "HUB_FHIR_URL", "") and not getattr(settings, "HUB_MWL_HOST", "")


def encapsulated_onwards(capture_id: str) -> list[int]:
    """Encapsulation, the measurement where one is wanted, then the deliveries
    opened (a few rows, no I/O, so that a capture is never seen `encapsulated`
    without its deliveries, the reason it has none, or a measurement due):
    the ids of the deliveries to send."""
    if not capture_encapsulate(capture_id=capture_id):
        return []
    return measured_onwards(capture_id)


def measured_onwards(capture_id: str) -> list[int]:
    if measurement_due(capture_id) and not capture_measure(capture_id=capture_id):
        return []
    return capture_deliveries_start(capture_id=capture_id)


@shared_task
def inspect_capture(capture_id: str) -> None:
    """A capture's first task (cpu): inspection, then every step after it that
    needs no other service (see above)."""
    delivery_ids: list[int] = []
    with step(capture_id):
        local = matching_is_local()
        if not capture_inspect(capture_id=capture_id, measured_next=local):
            return
        if not local:
            send(match_capture, capture_id)
            return
        if capture_match(capture_id=capture_id).moved:
            delivery_ids = encapsulated_onwards(capture_id)
    enqueue_deliveries(delivery_ids)


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
        delivery_ids = encapsulated_onwards(capture_id)
    enqueue_deliveries(delivery_ids)


@shared_task
def measure_capture(capture_id: str) -> None:
    """A wound photo's measurement (cpu); recorded or refused, delivery follows."""
    with step(capture_id):
        delivery_ids = measured_onwards(capture_id)
    enqueue_deliveries(delivery_ids)


@shared_task
def start_delivery(capture_id: str) -> None:
    """The sweep's step for an `encapsulated` capture (io): one still to be
    measured goes back to the cpu queue first."""
    if measurement_due(capture_id):
        send(measure_capture, capture_id)
        return
    with step(capture_id):
        delivery_ids = capture_deliveries_start(capture_id=capture_id)
    enqueue_deliveries(delivery_ids)


@shared_task
def deliver(delivery_id: int) -> None:
    """One delivery (io); the one that archives the capture then runs its
    follow-ups here too, each claiming its own durable state."""
    # A transient failure sets the delivery's next_attempt_at; the sweep sends it then.
    with leases_renewed():
        outcome = delivery_attempt(delivery_id=delivery_id)
        if outcome.archived:
            capture_id = str(delivery_capture_id(delivery_id=delivery_id))
            # Both are I/O like the delivery, and both resumable without their
            # message: withdrawals keep their due time in their rows, the notice
            # in `emr_notice_due_at`, and the sweep sends either when due.
            capture_withdrawals_run(capture_id=capture_id)
            notice_send(capture_id)


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
    notice_send(capture_id)


def notice_send(capture_id: str) -> None:
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
    "measure": measure_capture,  # a sweep's only (see `hub.pipeline.resume`)
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
    # Only what this sweep claimed: another beat's sweep sends the rest.
    stalled = stalled_sent(stalled_work(busy_queues=busy_queues()))
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
    orphans_remove()


@shared_task
def purge_expired_captures() -> None:
    captures_purge_expired()
