"""Celery tasks of the delivery step: ids in, services do the work."""

from __future__ import annotations

from celery import shared_task

from hub.delivery.services import capture_delivery_retry, delivery_attempt


@shared_task
def deliver(delivery_id: int) -> None:
    delay = delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        deliver.apply_async((delivery_id,), countdown=delay)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)


@shared_task
def retry_capture_delivery(capture_id: str) -> None:
    enqueue_deliveries(capture_delivery_retry(capture_id=capture_id))
