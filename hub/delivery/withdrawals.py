"""Withdrawing instances sent under a wrong identity (IHE IOCM).

After a correction the capture is re-encapsulated under its new identity and
delivered again; once that copy is archived, the old instances are rejected
with a Key Object Selection rejection note sent to every destination, and
deleted outright where the archive is an Orthanc whose REST API is known.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from uuid import UUID

import pydicom
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from pydicom.uid import generate_uid

from encapsulate import RejectionReason, build_rejection_note, write_atomically
from hub.audit.services import audit_record
from hub.captures.models import Capture, CaptureStatus
from hub.captures.storage import data_path, instance_directory
from hub.delivery.destinations import (
    CStoreSender,
    StowSender,
    configured_destinations,
    sender_for,
)
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Delivery, Withdrawal, WithdrawalStatus
from hub.delivery.senders.orthanc_rest import OrthancRest
from hub.delivery.services import delivery_retry_policy

log = logging.getLogger(__name__)


def _orthanc() -> OrthancRest | None:
    if not settings.HUB_ARCHIVE_ORTHANC_URL:
        return None
    return OrthancRest(
        settings.HUB_ARCHIVE_ORTHANC_URL,
        username=settings.HUB_STOWRS_USERNAME,
        password=settings.HUB_STOWRS_PASSWORD,
        timeout=settings.HUB_STOWRS_TIMEOUT,
    )


def _withdraw(group: list[Withdrawal]) -> None:
    first = group[0]
    evidence = [pydicom.dcmread(data_path(w.path), stop_before_pixels=True) for w in group]
    note = build_rejection_note(
        evidence,
        reason=RejectionReason[first.reason],
        series_instance_uid=first.note_series_instance_uid,
        sop_instance_uid=first.note_sop_instance_uid,
        description="Sent under a wrong patient or order; corrected by an operator",
    )
    path = write_atomically(
        note, instance_directory(first.capture_id) / f"rejection-{first.note_sop_instance_uid}.dcm"
    ).path
    for destination in configured_destinations():
        archive = sender_for(destination)
        if isinstance(archive, StowSender | CStoreSender):
            archive.client.store([path])
    if (orthanc := _orthanc()) is not None:
        for withdrawal in group:
            orthanc.delete_instance(withdrawal.sop_instance_uid)


def capture_withdrawals_plan(*, capture: Capture, reason: RejectionReason) -> None:
    """Records every instance the capture was delivered as, to be withdrawn once
    its corrected copy is archived, and forgets its deliveries (the corrected
    copy is delivered afresh). Runs inside the caller's transaction.
    """
    note_series, note_sop = generate_uid(), generate_uid()
    for instance in capture.instances.all():
        Withdrawal.objects.create(
            capture=capture,
            sop_instance_uid=instance.sop_instance_uid,
            sop_class_uid=instance.sop_class_uid,
            study_instance_uid=capture.study_instance_uid,
            path=instance.path,
            reason=reason.name,
            note_series_instance_uid=note_series,
            note_sop_instance_uid=note_sop,
        )
    Delivery.objects.filter(capture=capture).delete()


def capture_withdrawals_run(*, capture_id: UUID | str) -> float | None:
    """Withdraws what is due for the capture; returns seconds until a retry, if any.

    Each group is claimed first (a lease on its rows), so two runs never send
    one note at once; a transient failure sets when it is due again, and the
    resume sweep runs it then (`withdrawals_due`).
    """
    now = timezone.now()
    due = (
        Withdrawal.objects.filter(capture_id=capture_id, status=WithdrawalStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )
    groups: dict[str, list[Withdrawal]] = defaultdict(list)
    for withdrawal in due:
        groups[withdrawal.note_sop_instance_uid].append(withdrawal)
    retry_in: float | None = None
    policy = delivery_retry_policy()
    for group in groups.values():
        ids = [w.id for w in group]
        claimed = due.filter(id__in=ids).update(
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=settings.HUB_STEP_LEASE_SECONDS),
        )
        if claimed != len(ids):
            continue  # another run holds (part of) it
        attempts = group[0].attempts + 1
        try:
            _withdraw(group)
        except (DeliveryError, OSError) as error:
            transient = isinstance(error, DeliveryError) and error.transient
            reason = error.reason if isinstance(error, DeliveryError) else str(error)
            if transient and not policy.exhausted(attempts):
                retry_in = policy.delay(attempts)
                Withdrawal.objects.filter(id__in=ids).update(
                    last_error=reason,
                    lease_until=None,
                    next_attempt_at=timezone.now() + timedelta(seconds=retry_in),
                )
                continue
            log.error("withdrawal for capture %s failed: %s", capture_id, reason)
            Withdrawal.objects.filter(id__in=ids).update(
                status=WithdrawalStatus.FAILED, last_error=reason, lease_until=None
            )
            audit_record(capture_id=capture_id, action="withdrawal-failed", note=reason)
            continue
        Withdrawal.objects.filter(id__in=ids).update(
            status=WithdrawalStatus.DONE, done_at=timezone.now(), last_error="", lease_until=None
        )
        audit_record(
            capture_id=capture_id,
            action="withdrawn",
            before=[w.sop_instance_uid for w in group],
            note=f"rejection note {group[0].note_sop_instance_uid} ({group[0].reason})",
        )
        for withdrawal in group:
            data_path(withdrawal.path).unlink(missing_ok=True)
    return retry_in


def withdrawals_due() -> list[str]:
    """Captures, archived again after a correction, with a withdrawal due now."""
    now = timezone.now()
    return [
        str(capture_id)
        for capture_id in Withdrawal.objects.filter(
            status=WithdrawalStatus.PENDING, capture__status=CaptureStatus.ARCHIVED
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by()
        .values_list("capture_id", flat=True)
        .distinct()
    ]
