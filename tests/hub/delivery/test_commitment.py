"""Storage Commitment bookkeeping: the report, the wait, its deadline (no network here;
the exchange with a real archive is in tests/integration/test_dimse_commitment.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pydicom.dataset import Dataset

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.commitment import (
    PROCESSING_FAILURE,
    SUCCESS,
    CommitmentReport,
    commitment_await,
    commitment_begin,
    commitment_report_receive,
    commitments_overdue,
)
from hub.delivery.models import Delivery, DeliveryStatus, Destination
from hub.delivery.services import capture_deliveries_start
from hub.pipeline.resume import stalled_work
from tests.hub.delivery.test_delivery_services import encapsulated

pytestmark = pytest.mark.django_db

ORTHANC = "ORTHANC@127.0.0.1"


@pytest.fixture
def delivery(tmp_path: Path, settings) -> Delivery:
    """A capture's delivery to a C-STORE archive that commits, its N-ACTION under way."""
    settings.HUB_STOWRS_URL = None
    settings.HUB_DELIVERY_RETRY_BASE_SECONDS = 0.1
    settings.HUB_DELIVERY_MAX_ATTEMPTS = 3
    Destination.objects.create(
        name="vna",
        kind="c-store",
        host="127.0.0.1",
        port=11112,
        called_aet="ORTHANC",
        storage_commitment=True,
    )
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    Delivery.objects.filter(id=delivery_id).update(attempts=1)
    return Delivery.objects.get(id=delivery_id)


def _instance_uid(delivery: Delivery) -> str:
    return delivery.capture.instances.get().sop_instance_uid


def _report(uid: str, committed: list[str], failed: list[tuple[str, int]] = ()) -> CommitmentReport:
    return CommitmentReport(uid, tuple(committed), tuple(failed))


def test_a_report_that_commits_everything_archives_the_capture(delivery: Delivery) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    assert commitment_await(delivery_id=delivery.id, transaction_uid=uid) is False
    assert Delivery.objects.get(id=delivery.id).status == DeliveryStatus.COMMITTING

    status = commitment_report_receive(
        report=_report(uid, [_instance_uid(delivery)]), reporter=ORTHANC
    )

    assert status == SUCCESS
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.commitment_report == {"committed": [_instance_uid(delivery)], "failed": []}
    assert Capture.objects.get(id=delivery.capture_id).status == CaptureStatus.ARCHIVED


def test_a_report_that_comes_before_the_wait_is_kept_and_acted_on_by_the_wait(
    delivery: Delivery,
) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_report_receive(report=_report(uid, [_instance_uid(delivery)]), reporter=ORTHANC)
    assert Delivery.objects.get(id=delivery.id).status == DeliveryStatus.PENDING

    archived = commitment_await(delivery_id=delivery.id, transaction_uid=uid)

    assert archived is True
    assert Delivery.objects.get(id=delivery.id).status == DeliveryStatus.DELIVERED


def test_an_instance_the_archive_could_not_commit_is_sent_again_with_the_reason(
    delivery: Delivery,
) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_await(delivery_id=delivery.id, transaction_uid=uid)
    instance = _instance_uid(delivery)

    commitment_report_receive(report=_report(uid, [], [(instance, 0x0112)]), reporter=ORTHANC)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.next_attempt_at is not None
    assert f"did not commit {instance} (0x0112" in delivery.last_error
    assert Capture.objects.get(id=delivery.capture_id).status == CaptureStatus.DELIVERING


def test_a_sop_class_the_archive_will_never_commit_fails_the_delivery(delivery: Delivery) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_await(delivery_id=delivery.id, transaction_uid=uid)

    commitment_report_receive(
        report=_report(uid, [], [(_instance_uid(delivery), 0x0122)]), reporter=ORTHANC
    )

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    capture = Capture.objects.get(id=delivery.capture_id)
    assert capture.status == CaptureStatus.FAILED
    assert "SOP class not supported" in capture.reason


def test_a_report_from_another_ae_or_for_an_old_transaction_changes_nothing(
    delivery: Delivery,
) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_await(delivery_id=delivery.id, transaction_uid=uid)
    everything = [_instance_uid(delivery)]

    from_elsewhere = commitment_report_receive(
        report=_report(uid, everything), reporter="OTHERPACS@127.0.0.1"
    )
    superseded = commitment_report_receive(
        report=_report("1.2.3.4.5", everything), reporter=ORTHANC
    )

    assert (from_elsewhere, superseded) == (PROCESSING_FAILURE, SUCCESS)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.COMMITTING
    assert delivery.commitment_report is None


def test_no_report_by_the_deadline_is_a_failed_try_the_sweep_sends_again(
    delivery: Delivery, settings
) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_await(delivery_id=delivery.id, transaction_uid=uid)
    Delivery.objects.filter(id=delivery.id).update(
        commitment_due_at=timezone.now() - timedelta(seconds=1)
    )

    assert commitments_overdue() == [delivery.id]

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert f"no Storage Commitment report for transaction {uid}" in delivery.last_error
    Delivery.objects.filter(id=delivery.id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        updated_at=timezone.now() - timedelta(seconds=2),
    )
    assert stalled_work().deliveries == [delivery.id]


def test_no_report_after_the_last_attempt_fails_the_capture(delivery: Delivery) -> None:
    uid = commitment_begin(delivery_id=delivery.id)
    commitment_await(delivery_id=delivery.id, transaction_uid=uid)
    Delivery.objects.filter(id=delivery.id).update(
        attempts=3, commitment_due_at=timezone.now() - timedelta(seconds=1)
    )

    commitments_overdue()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    capture = Capture.objects.get(id=delivery.capture_id)
    assert capture.status == CaptureStatus.FAILED
    assert "gave up after 3 attempts" in capture.reason


def test_the_event_information_of_a_report_is_read() -> None:
    ds = Dataset()
    ds.TransactionUID = "1.2.3"
    ok, bad = Dataset(), Dataset()
    ok.ReferencedSOPClassUID, ok.ReferencedSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.4"
    bad.ReferencedSOPClassUID, bad.ReferencedSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.5"
    bad.FailureReason = 0x0112
    ds.ReferencedSOPSequence = [ok]
    ds.FailedSOPSequence = [bad]

    report = CommitmentReport.from_event_information(ds, all_committed=False)

    assert report == CommitmentReport("1.2.3", ("1.2.4",), (("1.2.5", 0x0112),))
    with pytest.raises(ValueError):
        CommitmentReport.from_event_information(ds, all_committed=True)
