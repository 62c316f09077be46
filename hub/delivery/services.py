"""Delivering a capture's instances to every destination, with bounded retries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hub.captures.leases import capture_claim
from hub.captures.models import CaptureStatus
from hub.captures.states import capture_move, capture_update
from hub.delivery.destinations import configured_destinations, destination_sender
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Delivery, DeliveryStatus
from hub.retry import RetryPolicy

log = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def capture_deliveries_start(*, capture_id: UUID | str) -> list[int]:
    """Opens one delivery per destination; returns the ids to send now.

    With no destination configured the capture stays `encapsulated` with a
    reason, and is sent once one is configured and the step is resumed.
    """
    capture = capture_claim(capture_id, CaptureStatus.ENCAPSULATED)
    if capture is None:
        return []
    destinations = [d for d in configured_destinations() if d.applies_to(capture)]
    if not destinations:
        capture_update(
            capture.id,
            lease_until=None,
            reason="no destination is configured for what this capture delivers (set "
            "HUB_STOWRS_URL for DICOM, HUB_MHD_URL for originals); the capture waits here",
        )
        return []
    with transaction.atomic():
        for destination in destinations:
            Delivery.objects.get_or_create(capture=capture, destination=destination.name)
        capture_move(
            capture.id,
            source=CaptureStatus.ENCAPSULATED,
            target=CaptureStatus.DELIVERING,
            reason="",
        )
    return list(
        Delivery.objects.filter(capture=capture, status__in=OPEN).values_list("id", flat=True)
    )


def delivery_retry_policy() -> RetryPolicy:
    """How deliveries (and withdrawals, which are deliveries too) wait and give up."""
    return RetryPolicy(
        base_seconds=settings.HUB_DELIVERY_RETRY_BASE_SECONDS,
        max_seconds=settings.HUB_DELIVERY_RETRY_MAX_SECONDS,
        max_attempts=settings.HUB_DELIVERY_MAX_ATTEMPTS,
    )


def _claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(id=delivery_id, status__in=OPEN)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_until=now + timedelta(seconds=settings.HUB_STEP_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("capture").get(id=delivery_id)


@dataclass(frozen=True)
class DeliveryOutcome:
    retry_in: float | None = None  # a transient failure: try again then
    archived: bool = False  # this was the capture's last open delivery


def delivery_attempt(*, delivery_id: int) -> DeliveryOutcome:
    """Sends the capture's instances once.

    No transaction is open while the archive is being talked to.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return DeliveryOutcome()
    try:
        receipt = destination_sender(delivery.destination).send(delivery.capture)
    except DeliveryError as error:
        return DeliveryOutcome(retry_in=_record_failure(delivery, error))
    except OSError as error:
        failure = DeliveryError(f"cannot read the file to send: {error}", transient=False)
        return DeliveryOutcome(retry_in=_record_failure(delivery, failure))
    log.info("capture %s delivered to %s", delivery.capture_id, delivery.destination)
    with transaction.atomic():
        Delivery.objects.filter(id=delivery.id).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            lease_until=None,
            last_error="",
            retrieve_url=receipt.retrieve_url or "",
        )
        others_open = Delivery.objects.filter(capture_id=delivery.capture_id).exclude(
            status=DeliveryStatus.DELIVERED
        )
        archived = not others_open.exists() and capture_move(
            delivery.capture_id,
            source=CaptureStatus.DELIVERING,
            target=CaptureStatus.ARCHIVED,
            reason="",
        )
    return DeliveryOutcome(archived=archived)


def _record_failure(delivery: Delivery, error: DeliveryError) -> float | None:
    attempts = delivery.attempts
    policy = delivery_retry_policy()
    if error.transient and not policy.exhausted(attempts):
        delay = policy.delay(attempts)
        log.warning(
            "delivery %s to %s failed (attempt %d), retrying in %.0f s: %s",
            delivery.id,
            delivery.destination,
            attempts,
            delay,
            error.reason,
        )
        Delivery.objects.filter(id=delivery.id).update(
            status=DeliveryStatus.RETRYING,
            last_error=error.reason,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            lease_until=None,
        )
        return delay
    why = f"gave up after {attempts} attempts: {error.reason}" if error.transient else error.reason
    log.error("delivery %s to %s failed: %s", delivery.id, delivery.destination, why)
    with transaction.atomic():
        Delivery.objects.filter(id=delivery.id).update(
            status=DeliveryStatus.FAILED, last_error=why, lease_until=None
        )
        capture_move(
            delivery.capture_id,
            source=CaptureStatus.DELIVERING,
            target=CaptureStatus.FAILED,
            reason=f"delivery to {delivery.destination} failed: {why}",
        )
    return None


def capture_delivery_retry(*, capture_id: UUID | str) -> list[int]:
    """An operator's retry of a failed capture: its failed deliveries start afresh."""
    with transaction.atomic():
        moved = capture_move(
            capture_id, source=CaptureStatus.FAILED, target=CaptureStatus.DELIVERING, reason=""
        )
        if not moved:
            return []
        Delivery.objects.filter(capture_id=capture_id, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, lease_until=None
        )
    return list(
        Delivery.objects.filter(capture_id=capture_id, status__in=OPEN).values_list("id", flat=True)
    )


def delivery_capture_id(*, delivery_id: int) -> str:
    return str(Delivery.objects.values_list("capture_id", flat=True).get(id=delivery_id))
