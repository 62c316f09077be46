"""Delivering a capture's instances to every destination, with bounded retries."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus
from hub.captures.steps import claim_step, finish_step
from hub.delivery.destinations import configured_destinations, destination_sender
from hub.delivery.models import Delivery, DeliveryStatus
from hub.delivery.stowrs import DeliveryError

log = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def capture_deliveries_start(*, capture_id: UUID | str) -> list[int]:
    """Opens one delivery per destination; returns the ids to send now.

    With no destination configured the capture stays `encapsulated` with a
    reason, and is sent once one is configured and the step is resumed.
    """
    capture = claim_step(capture_id, CaptureStatus.ENCAPSULATED)
    if capture is None:
        return []
    destinations = [d for d in configured_destinations() if d.applies_to(capture)]
    if not destinations:
        Capture.objects.filter(id=capture.id).update(
            lease_until=None,
            reason="no destination is configured for what this capture delivers (set "
            "HUB_STOWRS_URL for DICOM, HUB_MHD_URL for originals); the capture waits here",
        )
        return []
    with transaction.atomic():
        for destination in destinations:
            Delivery.objects.get_or_create(capture=capture, destination=destination.name)
        finish_step(capture, CaptureStatus.ENCAPSULATED, CaptureStatus.DELIVERING, reason="")
    return list(
        Delivery.objects.filter(capture=capture, status__in=OPEN).values_list("id", flat=True)
    )


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, so a returning archive is not stampeded."""
    base = settings.HUB_DELIVERY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return min(base, settings.HUB_DELIVERY_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)


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
        archived = not others_open.exists() and finish_step(
            delivery.capture, CaptureStatus.DELIVERING, CaptureStatus.ARCHIVED, reason=""
        )
    return DeliveryOutcome(archived=archived)


def _record_failure(delivery: Delivery, error: DeliveryError) -> float | None:
    attempts = delivery.attempts
    if error.transient and attempts < settings.HUB_DELIVERY_MAX_ATTEMPTS:
        delay = retry_delay(attempts)
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
        Capture.objects.filter(id=delivery.capture_id, status=CaptureStatus.DELIVERING).update(
            status=CaptureStatus.FAILED,
            reason=f"delivery to {delivery.destination} failed: {why}",
            updated_at=timezone.now(),
        )
    return None


def capture_delivery_retry(*, capture_id: UUID | str) -> list[int]:
    """An operator's retry of a failed capture: its failed deliveries start afresh."""
    with transaction.atomic():
        moved = Capture.objects.filter(id=capture_id, status=CaptureStatus.FAILED).update(
            status=CaptureStatus.DELIVERING, reason="", updated_at=timezone.now()
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
