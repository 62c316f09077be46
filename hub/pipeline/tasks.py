"""Every Celery task of the hub: each takes an id, calls one service, and
enqueues what comes next once that service has committed.

inspect -> match -> encapsulate -> start_delivery -> deliver (one per
destination) -> withdraw_replaced and notify_emr once archived. The resume
sweep re-enqueues whatever a lost message or a dead worker left behind.
"""

from __future__ import annotations

import logging

from celery import shared_task

from hub.delivery.services import (
    capture_deliveries_start,
    capture_delivery_retry,
    delivery_attempt,
    delivery_capture_id,
)
from hub.delivery.withdrawals import capture_withdrawals_run
from hub.emr.writeback import capture_notify_emr
from hub.matching.services import capture_match
from hub.pipeline.resume import stalled_work
from hub.pipeline.steps import capture_encapsulate, capture_inspect

log = logging.getLogger(__name__)


@shared_task
def inspect_capture(capture_id: str) -> None:
    if capture_inspect(capture_id=capture_id):
        match_capture.delay(capture_id)


@shared_task
def match_capture(capture_id: str) -> None:
    result = capture_match(capture_id=capture_id)
    if result.moved:
        encapsulate_capture.delay(capture_id)
    elif result.retry_in is not None:
        match_capture.apply_async((capture_id,), countdown=result.retry_in)


@shared_task
def encapsulate_capture(capture_id: str) -> None:
    if capture_encapsulate(capture_id=capture_id):
        start_delivery.delay(capture_id)


@shared_task
def start_delivery(capture_id: str) -> None:
    enqueue_deliveries(capture_deliveries_start(capture_id=capture_id))


@shared_task
def deliver(delivery_id: int) -> None:
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        deliver.apply_async((delivery_id,), countdown=outcome.retry_in)
    if outcome.archived:
        capture_id = delivery_capture_id(delivery_id=delivery_id)
        withdraw_replaced.delay(capture_id)
        notify_emr.delay(capture_id)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)


@shared_task
def retry_capture_delivery(capture_id: str) -> None:
    """An operator's retry of a failed capture."""
    enqueue_deliveries(capture_delivery_retry(capture_id=capture_id))


@shared_task
def withdraw_replaced(capture_id: str) -> None:
    """After a corrected capture is archived: withdraw what it replaced (IOCM)."""
    retry_in = capture_withdrawals_run(capture_id=capture_id)
    if retry_in is not None:
        withdraw_replaced.apply_async((capture_id,), countdown=retry_in)


@shared_task
def notify_emr(capture_id: str) -> None:
    """After archiving: the EMR learns of the capture (configurable off)."""
    retry_in = capture_notify_emr(capture_id=capture_id)
    if retry_in is not None:
        notify_emr.apply_async((capture_id,), countdown=retry_in)


STEP_TASKS = {
    "inspect": inspect_capture,
    "match": match_capture,
    "encapsulate": encapsulate_capture,
    "deliver": start_delivery,
}


@shared_task
def resume_stalled_captures() -> None:
    stalled = stalled_work()
    for step, capture_id in stalled.steps:
        log.warning("resuming capture %s at step %s", capture_id, step)
        STEP_TASKS[step].delay(capture_id)
    enqueue_deliveries(stalled.deliveries)
