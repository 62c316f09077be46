"""Delivering a capture's instances to every destination, with bounded retries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hub.audit.models import Outcome
from hub.audit.services import audit_record
from hub.captures.leases import capture_claim, lease_expiry, lease_renewal_register, lease_token
from hub.captures.models import CaptureStatus
from hub.captures.states import capture_move, capture_update
from hub.delivery import commitment
from hub.delivery.destinations import CStoreSender, destination_sender
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Delivery, DeliveryStatus, Destination
from hub.delivery.routing import capture_destinations
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
    destinations = capture_destinations(capture)
    if not destinations:
        capture_update(
            capture.id,
            lease_until=None,
            reason="no destination is configured or routed for what this capture delivers "
            "(add one in the admin, or set HUB_STOWRS_URL for DICOM, HUB_MHD_URL for "
            "originals; check the routing rules); the capture waits here",
        )
        return []
    with transaction.atomic():
        # One INSERT for them all; a delivery opened by an earlier try stays as it is.
        Delivery.objects.bulk_create(
            [Delivery(capture=capture, destination=d.name) for d in destinations],
            ignore_conflicts=True,
        )
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


def delivery_update(delivery_id: int, **fields: Any) -> int:
    """Writes a delivery, keeping `updated_at` true (`QuerySet.update()` skips auto_now).

    A delivery's end (delivered or failed) is put on record here, where every one passes.
    """
    updated = Delivery.objects.filter(id=delivery_id).update(updated_at=timezone.now(), **fields)
    if updated and fields.get("status") in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        _audit_outcome(delivery_id, fields)
    return updated


def _audit_outcome(delivery_id: int, fields: dict[str, Any]) -> None:
    capture_id, destination, attempts = Delivery.objects.values_list(
        "capture_id", "destination", "attempts"
    ).get(id=delivery_id)
    delivered = fields["status"] == DeliveryStatus.DELIVERED
    reason = "" if delivered else fields.get("last_error", "")
    audit_record(
        action="delivery",
        capture_id=capture_id,
        entity=f"destination:{destination}",
        outcome=Outcome.SUCCESS if delivered else Outcome.FAILED,
        # What the timeline shows for the try that ended it.
        after={"destination": destination, "attempt": attempts, "reason": reason},
        note=f"delivered to {destination} (attempt {attempts})"
        if delivered
        else f"delivery to {destination} failed: {reason}",
    )


def _audit_attempt_failed(delivery: Delivery, reason: str) -> None:
    """A try that failed and is tried again; the last try is the `delivery` event."""
    audit_record(
        action="delivery.attempt",
        capture_id=delivery.capture_id,
        entity=f"destination:{delivery.destination}",
        outcome=Outcome.FAILED,
        after={"destination": delivery.destination, "attempt": delivery.attempts, "reason": reason},
        note=f"attempt {delivery.attempts} to {delivery.destination} failed, "
        f"tried again later: {reason}",
    )


def _claim(delivery_id: int) -> Delivery | None:
    """The delivery, leased to the caller and its try counted, if it is due and free.

    A delivery whose tries are used up (each ended by a crash or a kill, which
    `delivery_failure_record` never saw) fails here instead.
    """
    now = timezone.now()
    token = lease_token()
    due = (
        Delivery.objects.filter(id=delivery_id, status__in=OPEN)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )
    claimed = due.filter(attempts__lt=settings.HUB_DELIVERY_MAX_ATTEMPTS).update(
        lease_until=lease_expiry(),
        lease_owner=token,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        exhausted = due.first()
        if exhausted is not None:
            _fail(exhausted, exhausted.last_error or "the worker was killed or ran out of time")
        return None

    def renew() -> bool:
        return bool(
            Delivery.objects.filter(id=delivery_id, lease_owner=token).update(
                lease_until=lease_expiry()
            )
        )

    lease_renewal_register(renew)
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
    transaction_uid = None
    try:
        sender = destination_sender(delivery.destination)
        if isinstance(sender, CStoreSender) and sender.storage_commitment:
            # Kept before the N-ACTION: the report may come before the send returns.
            transaction_uid = commitment.commitment_begin(delivery_id=delivery.id)
            receipt = sender.send(delivery.capture, commitment_uid=transaction_uid)
        else:
            receipt = sender.send(delivery.capture)
    except DeliveryError as error:
        return DeliveryOutcome(retry_in=delivery_failure_record(delivery, error))
    except OSError as error:
        failure = DeliveryError(f"cannot read the file to send: {error}", transient=False)
        return DeliveryOutcome(retry_in=delivery_failure_record(delivery, failure))
    except BaseException as error:
        # A bug or the time limit: keep what happened, give the lease back and
        # let the sweep try again later; the tries stay bounded by the claim.
        delivery_update(
            delivery.id,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            lease_until=None,
            lease_owner="",
            next_attempt_at=timezone.now()
            + timedelta(seconds=delivery_retry_policy().delay(delivery.attempts)),
        )
        _audit_attempt_failed(delivery, f"{type(error).__name__}: {error}")
        raise
    if transaction_uid is not None:
        archived = commitment.commitment_await(
            delivery_id=delivery.id, transaction_uid=transaction_uid
        )
        return DeliveryOutcome(archived=archived)
    return DeliveryOutcome(archived=delivery_confirm(delivery, receipt.retrieve_url or ""))


def delivery_confirm(delivery: Delivery, retrieve_url: str) -> bool:
    """The destination has it: the delivery is delivered; True if that archived the capture."""
    log.info("capture %s delivered to %s", delivery.capture_id, delivery.destination)
    with transaction.atomic():
        delivery_update(
            delivery.id,
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            lease_until=None,
            lease_owner="",
            last_error="",
            retrieve_url=retrieve_url,
            commitment_due_at=None,
        )
        others_open = Delivery.objects.filter(capture_id=delivery.capture_id).exclude(
            status=DeliveryStatus.DELIVERED
        )
        return not others_open.exists() and capture_move(
            delivery.capture_id,
            source=CaptureStatus.DELIVERING,
            target=CaptureStatus.ARCHIVED,
            reason="",
            # The EMR notice is due now; should its message be lost, the sweep sends it.
            emr_notice_due_at=timezone.now(),
        )


def delivery_failure_record(delivery: Delivery, error: DeliveryError) -> float | None:
    """A try that failed: retried after the policy's delay if transient and not exhausted."""
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
        delivery_update(
            delivery.id,
            status=DeliveryStatus.RETRYING,
            last_error=error.reason,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            lease_until=None,
            lease_owner="",
            commitment_due_at=None,
        )
        _audit_attempt_failed(delivery, error.reason)
        return delay
    why = f"gave up after {attempts} attempts: {error.reason}" if error.transient else error.reason
    _fail(delivery, why)
    return None


def _fail(delivery: Delivery, why: str) -> None:
    log.error("delivery %s to %s failed: %s", delivery.id, delivery.destination, why)
    with transaction.atomic():
        delivery_update(
            delivery.id,
            status=DeliveryStatus.FAILED,
            last_error=why,
            lease_until=None,
            lease_owner="",
            commitment_due_at=None,
        )
        capture_move(
            delivery.capture_id,
            source=CaptureStatus.DELIVERING,
            target=CaptureStatus.FAILED,
            reason=f"delivery to {delivery.destination} failed: {why}",
        )


def capture_delivery_retry(*, capture_id: UUID | str) -> list[int]:
    """An operator's retry of a failed capture: its failed deliveries start afresh."""
    with transaction.atomic():
        moved = capture_move(
            capture_id, source=CaptureStatus.FAILED, target=CaptureStatus.DELIVERING, reason=""
        )
        if not moved:
            return []
        Delivery.objects.filter(capture_id=capture_id, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            lease_until=None,
            lease_owner="",
            updated_at=timezone.now(),
        )
    return list(
        Delivery.objects.filter(capture_id=capture_id, status__in=OPEN).values_list("id", flat=True)
    )


def delivery_capture_id(*, delivery_id: int) -> str:
    return str(Delivery.objects.values_list("capture_id", flat=True).get(id=delivery_id))


def capture_resend(*, capture_id: UUID | str, destination: str) -> int:
    """An operator's re-send of one capture to one destination; the delivery's id.

    Only that delivery starts afresh (made if the capture never went there);
    the capture's status is left alone, and every other delivery too.
    """
    if not Destination.objects.filter(name=destination).exists():
        raise DeliveryError(f"there is no destination {destination!r}", transient=False)
    with transaction.atomic():
        delivery, _ = Delivery.objects.get_or_create(capture_id=capture_id, destination=destination)
        delivery_update(
            delivery.id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            lease_until=None,
            lease_owner="",
            last_error="",
        )
    return delivery.id
