"""Withdrawing instances sent under a wrong identity (IHE IOCM).

After a correction the capture is re-encapsulated under its new identity and
delivered again; once that copy is archived, the old instances are rejected
with a Key Object Selection rejection note sent to every destination, and
deleted outright where the archive is an Orthanc whose REST API is known.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from uuid import UUID

import pydicom
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from pydicom.uid import generate_uid

from encapsulate import RejectionReason, build_rejection_note, write_atomically
from hub.audit.services import audit_record
from hub.captures.models import Capture
from hub.captures.storage import data_path, instance_directory
from hub.delivery.destinations import StowSender, configured_destinations, destination_sender
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
    )
    for destination in configured_destinations():
        if destination.kind == "stow-rs":
            archive = destination_sender(destination.name)
            assert isinstance(archive, StowSender)
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
    """Withdraws what is pending for the capture; returns seconds until a retry, if any."""
    pending = list(
        Withdrawal.objects.filter(capture_id=capture_id, status=WithdrawalStatus.PENDING)
    )
    groups: dict[str, list[Withdrawal]] = defaultdict(list)
    for withdrawal in pending:
        groups[withdrawal.note_sop_instance_uid].append(withdrawal)
    retry_in: float | None = None
    policy = delivery_retry_policy()
    for group in groups.values():
        ids = [w.id for w in group]
        Withdrawal.objects.filter(id__in=ids).update(attempts=F("attempts") + 1)
        attempts = group[0].attempts + 1
        try:
            _withdraw(group)
        except (DeliveryError, OSError) as error:
            transient = isinstance(error, DeliveryError) and error.transient
            reason = error.reason if isinstance(error, DeliveryError) else str(error)
            if transient and not policy.exhausted(attempts):
                Withdrawal.objects.filter(id__in=ids).update(last_error=reason)
                retry_in = policy.delay(attempts)
                continue
            log.error("withdrawal for capture %s failed: %s", capture_id, reason)
            Withdrawal.objects.filter(id__in=ids).update(
                status=WithdrawalStatus.FAILED, last_error=reason
            )
            audit_record(capture_id=capture_id, action="withdrawal-failed", note=reason)
            continue
        Withdrawal.objects.filter(id__in=ids).update(
            status=WithdrawalStatus.DONE, done_at=timezone.now(), last_error=""
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
