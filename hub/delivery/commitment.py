"""Storage Commitment Push Model (PS3.4 Annex J) for C-STORE destinations that ask for it.

A delivery to such a destination mints a Transaction UID and keeps it on its
row before anything is sent (`commitment_begin`); the sender stores the
instances and asks for their commitment (N-ACTION) on one association; the
delivery then waits `committing` until HUB_COMMITMENT_TIMEOUT_SECONDS. The
archive answers later, on an association of its own to the hub's listener
(N-EVENT-REPORT), which hands the report here (`commitment_report_receive`).

The report may come before the delivery has recorded that it waits: it is
kept on the row whatever the delivery's state, and `commitment_settle`, run by
both sides under the row's lock, acts on it once both are there. All
committed: the delivery is delivered (and the capture archived if it was the
last). Some failed: a try that failed, sent again (all of the capture's
instances: storing one twice is harmless) unless every failure is one no
resend can cure. No report in time: the same, by the resume sweep
(`commitments_overdue`), bounded by HUB_DELIVERY_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

# Both ways between the two modules, so by module: either may be imported first.
from hub.delivery import services
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Delivery, DeliveryStatus, Destination, DestinationKind
from hub.delivery.senders.base import failure_reason

log = logging.getLogger(__name__)

SUCCESS = 0x0000
PROCESSING_FAILURE = 0x0110
# Failure Reasons (PS3.4 J.3.3.1.1) that no resend cures: the archive will
# never commit that class, or the request itself was wrong.
PERMANENT_REASONS = {0x0122, 0x0119, 0x0131}


@dataclass(frozen=True)
class CommitmentReport:
    """What an N-EVENT-REPORT of Storage Commitment says (PS3.4 J.3.3)."""

    transaction_uid: str
    committed: tuple[str, ...]
    failed: tuple[tuple[str, int | None], ...]  # (SOP Instance UID, Failure Reason)

    @classmethod
    def from_event_information(cls, ds: Dataset, *, all_committed: bool) -> CommitmentReport:
        committed = tuple(
            str(item.ReferencedSOPInstanceUID) for item in ds.get("ReferencedSOPSequence", [])
        )
        failed = tuple(
            (str(item.ReferencedSOPInstanceUID), item.get("FailureReason"))
            for item in ds.get("FailedSOPSequence", [])
        )
        if all_committed and failed:
            raise ValueError("event type 1 (all committed) with a Failed SOP Sequence")
        return cls(str(ds.get("TransactionUID", "")), committed, failed)

    def as_json(self) -> dict:
        return {"committed": list(self.committed), "failed": [list(f) for f in self.failed]}


def committing_archives() -> list[tuple[str, str]]:
    """(AE title, host) of every enabled C-STORE destination that asks for commitment."""
    return list(
        Destination.objects.filter(
            kind=DestinationKind.C_STORE, enabled=True, storage_commitment=True
        ).values_list("called_aet", "host")
    )


def commitment_begin(*, delivery_id: int) -> str:
    """A new Transaction UID for this try, kept before the N-ACTION is sent."""
    uid = generate_uid()
    Delivery.objects.filter(id=delivery_id).update(
        commitment_uid=uid, commitment_report=None, commitment_due_at=None
    )
    return uid


def commitment_await(*, delivery_id: int, transaction_uid: str) -> bool:
    """After the N-ACTION was accepted: the delivery waits for the report.

    True when the capture is archived by it (the report had come already).
    """
    services.delivery_update(
        delivery_id,
        status=DeliveryStatus.COMMITTING,
        commitment_due_at=timezone.now()
        + timedelta(seconds=settings.HUB_COMMITMENT_TIMEOUT_SECONDS),
        lease_until=None,
        lease_owner="",
        last_error="",
    )
    log.info("delivery %s awaits the commitment of transaction %s", delivery_id, transaction_uid)
    return commitment_settle(delivery_id=delivery_id)


def commitment_report_receive(*, report: CommitmentReport, reporter: str) -> int:
    """Keeps an archive's report on its delivery and acts on it; the N-EVENT-REPORT status.

    A report for a transaction no delivery awaits (one sent again since, or
    unknown) is answered Success and ignored: the archive did its part.
    """
    delivery = (
        Delivery.objects.filter(commitment_uid=report.transaction_uid)
        .values_list("id", "destination")
        .first()
        if report.transaction_uid
        else None
    )
    if delivery is None:
        log.warning(
            "a Storage Commitment report from %s for transaction %r, which no delivery awaits",
            reporter,
            report.transaction_uid,
        )
        return SUCCESS
    delivery_id, destination = delivery
    title = reporter.rpartition("@")[0]
    if not Destination.objects.filter(name=destination, called_aet=title).exists():
        log.warning(
            "%s reported on transaction %s of destination %s, which is not its archive",
            reporter,
            report.transaction_uid,
            destination,
        )
        return PROCESSING_FAILURE
    Delivery.objects.filter(id=delivery_id, commitment_uid=report.transaction_uid).update(
        commitment_report=report.as_json(), updated_at=timezone.now()
    )
    log.info(
        "%s committed %d and failed %d instances of transaction %s",
        reporter,
        len(report.committed),
        len(report.failed),
        report.transaction_uid,
    )
    commitment_settle(delivery_id=delivery_id)
    return SUCCESS


def commitment_settle(*, delivery_id: int) -> bool:
    """Acts on a kept report of a delivery that waits for it; True if the capture is archived."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(id=delivery_id, status=DeliveryStatus.COMMITTING)
            .filter(commitment_report__isnull=False)
            .first()
        )
        if delivery is None:
            return False
        report = delivery.commitment_report or {}
        sent = set(delivery.capture.instances.values_list("sop_instance_uid", flat=True))
        missing = sent - set(report.get("committed", []))
        if not missing and not report.get("failed"):
            return services.delivery_confirm(delivery, retrieve_url="")
        failed = {uid: reason for uid, reason in report.get("failed", [])}
        named = ", ".join(
            f"{uid} ({failure_reason(failed[uid]) if uid in failed else 'not in the report'})"
            for uid in sorted(missing | set(failed))
        )
        permanent = bool(failed) and all(reason in PERMANENT_REASONS for reason in failed.values())
        services.delivery_failure_record(
            delivery,
            DeliveryError(f"the archive did not commit {named}", transient=not permanent),
        )
    return False


def commitments_overdue() -> list[int]:
    """Deliveries whose report did not come in time: each a failed try, retried or failed."""
    now = timezone.now()
    overdue = list(
        Delivery.objects.filter(
            status=DeliveryStatus.COMMITTING, commitment_due_at__lt=now
        ).values_list("id", flat=True)
    )
    for delivery_id in overdue:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update()
                .filter(id=delivery_id, status=DeliveryStatus.COMMITTING, commitment_due_at__lt=now)
                .first()
            )
            if delivery is None:
                continue
            services.delivery_failure_record(
                delivery,
                DeliveryError(
                    "the archive sent no Storage Commitment report for transaction "
                    f"{delivery.commitment_uid} within "
                    f"{settings.HUB_COMMITMENT_TIMEOUT_SECONDS:.0f} s "
                    "(does it know the hub's AE title, host and port?)",
                    transient=True,
                ),
            )
    return overdue
