"""Celery tasks of the delivery step: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

from hub.delivery.services import capture_delivery_retry, delivery_attempt, delivery_capture_id
from hub.delivery.withdrawals import capture_withdrawals_run
from hub.matching.writeback import capture_notify_emr


@shared_task
def deliver(delivery_id: int) -> None:
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        deliver.apply_async((delivery_id,), countdown=outcome.retry_in)
    if outcome.archived:
        capture_id = delivery_capture_id(delivery_id=delivery_id)
        withdraw_replaced.delay(capture_id)
        notify_emr.delay(capture_id)


@shared_task
def withdraw_replaced(capture_id: str) -> None:
    """After a corrected capture is archived: withdraw what it replaced (IOCM)."""
    retry_in = capture_withdrawals_run(capture_id=capture_id)
    if retry_in is not None:
        withdraw_replaced.apply_async((capture_id,), countdown=retry_in)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)


@shared_task
def retry_capture_delivery(capture_id: str) -> None:
    enqueue_deliveries(capture_delivery_retry(capture_id=capture_id))


@shared_task
def notify_emr(capture_id: str) -> None:
    """After archiving: the EMR learns of the capture (configurable off)."""
    retry_in = capture_notify_emr(capture_id=capture_id)
    if retry_in is not None:
        notify_emr.apply_async((capture_id,), countdown=retry_in)
