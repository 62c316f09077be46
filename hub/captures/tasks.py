"""Celery tasks of the capture pipeline: each takes an id, calls a service,
and enqueues the next step once the service has committed."""

from __future__ import annotations

import logging

from celery import shared_task

from hub.captures.pipeline import capture_encapsulate, capture_inspect
from hub.captures.resume import stalled_work
from hub.delivery.services import capture_deliveries_start
from hub.delivery.tasks import enqueue_deliveries
from hub.matching.services import capture_match

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
