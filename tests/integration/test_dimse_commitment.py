"""Storage Commitment against the real Orthanc: the hub stores, asks for commitment
(N-ACTION), and Orthanc's report (N-EVENT-REPORT, on an association of its own to the
hub's listener) confirms the delivery, or names what it did not commit."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import StorageCommitmentPushModel

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery, DeliveryStatus, Destination, RoutingRule
from hub.delivery.senders.cstore import REQUEST_STORAGE_COMMITMENT, STORAGE_COMMITMENT_INSTANCE
from hub.delivery.services import capture_deliveries_start, delivery_attempt
from tests.hub.delivery.test_delivery_services import encapsulated
from tests.integration.dimse_objects import write_sc_photo
from tests.integration.faults import wait_until
from tests.integration.listener import DicomListener
from tests.peers.orthanc import OrthancPeer
from tests.peers.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def peers(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OrthancPeer, DicomListener]]:
    """An Orthanc that knows the hub's listener as a modality, and that listener."""
    port = free_port()
    orthanc = OrthancPeer(
        tmp_path_factory.mktemp("orthanc-commit"), hub_port=port, hub_aet=settings.HUB_AE_TITLE
    )
    listener = DicomListener(
        tmp_path_factory.mktemp("listener") / "listener.log",
        callers="STORESCU@127.0.0.1",
        port=port,
    )
    orthanc.start()
    try:
        listener.start()
        try:
            yield orthanc, listener
        finally:
            listener.stop()
    finally:
        orthanc.stop()


@pytest.fixture
def vna(peers: tuple[OrthancPeer, DicomListener], settings) -> Destination:
    settings.HUB_STOWRS_URL = None  # the VNA is the only destination
    orthanc, _ = peers
    return Destination.objects.create(
        name="vna",
        kind="c-store",
        host="127.0.0.1",
        port=orthanc.dicom_port,
        called_aet=orthanc.aet,
        storage_commitment=True,
        timeout_seconds=10,
    )


def _log(peers: tuple[OrthancPeer, DicomListener]) -> str:
    orthanc, listener = peers
    return f"{listener.log_tail()}\n{orthanc.log_tail()}"


def test_orthancs_report_confirms_the_delivery_and_archives_the_capture(
    peers: tuple[OrthancPeer, DicomListener], vna: Destination, tmp_path: Path
) -> None:
    orthanc, _ = peers
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)

    delivery_attempt(delivery_id=delivery_id)

    wait_until(
        lambda: Delivery.objects.get(id=delivery_id).status == DeliveryStatus.DELIVERED,
        timeout=30,
        what="the delivery confirmed by Orthanc's commitment report",
        log=_log(peers),
    )
    delivery = Delivery.objects.get(id=delivery_id)
    instance = capture.instances.get().sop_instance_uid
    assert delivery.commitment_report == {"committed": [instance], "failed": []}
    assert len(delivery.commitment_uid) > 10
    assert Capture.objects.get(id=capture.id).status == CaptureStatus.ARCHIVED
    assert orthanc.find_instance(instance) is not None


def test_an_instance_orthanc_does_not_hold_is_reported_and_sent_again(
    peers: tuple[OrthancPeer, DicomListener], vna: Destination, tmp_path: Path
) -> None:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    instance = capture.instances.get()
    transaction_uid = generate_uid()
    Delivery.objects.filter(id=delivery_id).update(
        status=DeliveryStatus.COMMITTING, commitment_uid=transaction_uid, attempts=1
    )

    # The hub's N-ACTION for an instance that was never stored there.
    ae = AE(ae_title=settings.HUB_AE_TITLE)
    ae.add_requested_context(StorageCommitmentPushModel)
    assoc = ae.associate("127.0.0.1", vna.port, ae_title=vna.called_aet)
    assert assoc.is_established
    request = Dataset()
    request.TransactionUID = transaction_uid
    item = Dataset()
    item.ReferencedSOPClassUID = instance.sop_class_uid
    item.ReferencedSOPInstanceUID = instance.sop_instance_uid
    request.ReferencedSOPSequence = [item]
    try:
        status, _ = assoc.send_n_action(
            request,
            REQUEST_STORAGE_COMMITMENT,
            StorageCommitmentPushModel,
            STORAGE_COMMITMENT_INSTANCE,
        )
    finally:
        assoc.release()
    assert int(status.Status) == 0x0000

    wait_until(
        lambda: Delivery.objects.get(id=delivery_id).status == DeliveryStatus.RETRYING,
        timeout=30,
        what="the delivery sent again after Orthanc's report of a failure",
        log=_log(peers),
    )
    delivery = Delivery.objects.get(id=delivery_id)
    assert f"did not commit {instance.sop_instance_uid} (0x0112" in delivery.last_error
    assert delivery.commitment_report["failed"][0][0] == instance.sop_instance_uid
    assert Capture.objects.get(id=capture.id).status == CaptureStatus.DELIVERING


def test_a_device_instance_goes_through_the_hub_and_is_archived_once_orthanc_commits_it(
    peers: tuple[OrthancPeer, DicomListener],
    vna: Destination,
    hub_stack: OrthancPeer,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    orthanc, listener = peers
    rule = RoutingRule.objects.create(name="everything to the VNA")
    rule.destinations.set([vna])
    sent = write_sc_photo(tmp_path / "photo.dcm")

    stored = subprocess.run(
        ["storescu", "-aet", "STORESCU", "-aec", settings.HUB_AE_TITLE, "-xy",
         "127.0.0.1", str(listener.port), str(tmp_path / "photo.dcm")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert stored.returncode == 0, stored.stderr + listener.log_tail()
    capture = wait_for_status(
        str(Capture.objects.get().id), "archived", "rejected", "failed", timeout=120
    )
    assert capture.status == "archived", capture.reason
    delivery = capture.deliveries.get()
    assert delivery.destination == "vna"
    assert delivery.commitment_report == {"committed": [sent.SOPInstanceUID], "failed": []}
    assert orthanc.find_instance(sent.SOPInstanceUID) is not None
