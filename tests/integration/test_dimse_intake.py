"""The hub's C-STORE SCP, driven by unmodified clients (DCMTK's storescu, pynetdicom):
what a device stores becomes a capture, and the status tells it the truth."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest
from django.conf import settings
from pynetdicom import AE, build_role
from pynetdicom.sop_class import (
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    StorageCommitmentPushModel,
    Verification,
)

from hub.audit.models import AuditEvent, Outcome
from hub.captures.models import Capture
from hub.captures.storage import data_path
from hub.delivery.senders.cstore import STORAGE_COMMITMENT_INSTANCE
from hub.dimse.association import rejection_of
from tests.integration.dimse_objects import write_multiframe, write_sc_photo
from tests.integration.listener import DicomListener
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CALLERS = "STORESCU@127.0.0.1,DEVICE@127.0.0.1"


@pytest.fixture(scope="module")
def listener(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DicomListener]:
    process = DicomListener(tmp_path_factory.mktemp("listener") / "listener.log", callers=CALLERS)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def small_listener(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DicomListener]:
    """A listener of a hub that takes at most 100 kB per capture."""
    process = DicomListener(tmp_path_factory.mktemp("listener") / "small.log", callers=CALLERS)
    process.start(HUB_MAX_UPLOAD_BYTES="100000")
    try:
        yield process
    finally:
        process.stop()


def _associate(
    listener: DicomListener,
    *contexts: str,
    aet: str = "DEVICE",
    transfer_syntax: str = pydicom.uid.ExplicitVRLittleEndian,
    **kwargs,
):
    ae = AE(ae_title=aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    for context in contexts:
        ae.add_requested_context(context, transfer_syntax)
    return ae.associate("127.0.0.1", listener.port, ae_title=settings.HUB_AE_TITLE, **kwargs)


def _store(listener: DicomListener, ds: pydicom.Dataset) -> int:
    assoc = _associate(listener, ds.SOPClassUID, transfer_syntax=ds.file_meta.TransferSyntaxUID)
    assert assoc.is_established, listener.log_tail()
    try:
        status = assoc.send_c_store(ds)
    finally:
        assoc.release()
    assert "Status" in status, listener.log_tail()
    return int(status.Status)


def _files_below(*parts: str) -> set[Path]:
    root = Path(settings.HUB_DATA_DIR).joinpath(*parts)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_a_photo_stored_by_storescu_becomes_a_capture_of_that_device(
    listener: DicomListener, tmp_path: Path
) -> None:
    sent = write_sc_photo(tmp_path / "photo.dcm")

    result = subprocess.run(
        ["storescu", "-aet", "STORESCU", "-aec", settings.HUB_AE_TITLE, "-xy",
         "127.0.0.1", str(listener.port), str(tmp_path / "photo.dcm")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr + listener.log_tail()
    capture = Capture.objects.get()
    assert capture.created_by.get_username() == "device:dimse-STORESCU@127.0.0.1"
    # Received, or further on where a worker of an earlier test is still consuming.
    assert capture.status != "rejected", capture.reason
    assert capture.context["patient"]["id"] == "MRN-0042"
    assert capture.context["order"]["accession_number"] == "ACC-7"
    kept = pydicom.dcmread(data_path(capture.original_path))
    assert kept.SOPInstanceUID == sent.SOPInstanceUID
    assert kept.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    assert kept.PixelData == sent.PixelData
    event = AuditEvent.objects.get(capture=capture, action="capture.create")
    assert (event.actor, event.address, event.note) == (
        capture.created_by,
        "127.0.0.1",
        "by C-STORE",
    )
    assert event.patient == "MRN-0042"


def test_an_instance_stored_again_is_answered_success_and_stays_one_capture(
    listener: DicomListener, tmp_path: Path
) -> None:
    ds = write_sc_photo(tmp_path / "photo.dcm")

    statuses = [_store(listener, ds), _store(listener, ds)]

    assert statuses == [0x0000, 0x0000]
    assert Capture.objects.count() == 1


def test_a_large_multiframe_object_is_stored_through_a_file_not_memory(
    listener: DicomListener, tmp_path: Path
) -> None:
    sent = write_multiframe(tmp_path / "cine.dcm", frames=64)  # 59 MB of pixels
    size = (tmp_path / "cine.dcm").stat().st_size
    peak_before = listener.peak_rss_bytes()

    status = _store(listener, pydicom.dcmread(tmp_path / "cine.dcm"))

    assert status == 0x0000, listener.log_tail()
    capture = Capture.objects.get()
    kept = data_path(capture.original_path)
    assert abs(kept.stat().st_size - size) < 1024  # the same data set; File Meta of its own
    assert pydicom.dcmread(kept, stop_before_pixels=True).SOPInstanceUID == sent.SOPInstanceUID
    # Held in memory, the data set alone would have raised the peak by its size.
    grown = listener.peak_rss_bytes() - peak_before
    assert grown < size / 3, f"the listener's peak memory grew {grown} bytes for {size}"


def test_a_caller_that_is_not_listed_is_rejected_at_association(
    listener: DicomListener, tmp_path: Path
) -> None:
    write_sc_photo(tmp_path / "photo.dcm")

    unknown_title = _associate(listener, Verification, aet="INTRUDER")
    listed_title_other_address = _associate(
        listener, Verification, aet="DEVICE", bind_address=("127.0.0.2", 0)
    )
    by_storescu = subprocess.run(
        ["storescu", "-aet", "NOBODY", "-aec", settings.HUB_AE_TITLE, "-xy",
         "127.0.0.1", str(listener.port), str(tmp_path / "photo.dcm")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    for assoc in (unknown_title, listed_title_other_address):
        assert assoc.is_rejected
        rejection = rejection_of(assoc)
        assert rejection.calling_aet_unknown and not rejection.transient
    assert by_storescu.returncode != 0
    assert "Association Rejected" in by_storescu.stdout + by_storescu.stderr
    assert not Capture.objects.exists()
    refused = AuditEvent.objects.filter(action="sign-in", outcome=Outcome.REFUSED)
    assert set(refused.values_list("entity", flat=True)) == {
        "dimse:INTRUDER@127.0.0.1",
        "dimse:DEVICE@127.0.0.2",
        "dimse:NOBODY@127.0.0.1",
    }


def test_a_listed_caller_may_echo(listener: DicomListener) -> None:
    assoc = _associate(listener, Verification)
    try:
        assert int(assoc.send_c_echo().Status) == 0x0000
    finally:
        assoc.release()


def test_a_device_may_not_report_a_storage_commitment(listener: DicomListener) -> None:
    ae = AE(ae_title="DEVICE")
    ae.add_requested_context(StorageCommitmentPushModel)
    role = build_role(StorageCommitmentPushModel, scp_role=True, scu_role=False)
    assoc = ae.associate("127.0.0.1", listener.port, ae_title=settings.HUB_AE_TITLE, ext_neg=[role])
    assert assoc.is_established, listener.log_tail()
    report = pydicom.Dataset()
    report.TransactionUID = pydicom.uid.generate_uid()
    report.ReferencedSOPSequence = []
    try:
        status, _ = assoc.send_n_event_report(
            report, 1, StorageCommitmentPushModel, STORAGE_COMMITMENT_INSTANCE
        )
    finally:
        assoc.release()

    assert int(status.Status) == 0x0124  # Refused: not authorized


def test_a_data_set_without_patient_id_fails_and_leaves_nothing_behind(
    listener: DicomListener, tmp_path: Path
) -> None:
    ds = write_sc_photo(tmp_path / "photo.dcm")
    del ds.PatientID
    originals_before = _files_below("originals")
    # Earlier tests of the session share HUB_DATA_DIR: only what this store leaves counts.
    spool_before = _files_below("dimse-spool")

    status = _store(listener, ds)

    assert status == 0xC000  # Error: cannot understand (PS3.4 B.2.3)
    assert not Capture.objects.exists()
    assert _files_below("originals") == originals_before
    assert _files_below("dimse-spool") == spool_before
    assert AuditEvent.objects.filter(
        action="capture.create", outcome=Outcome.REFUSED, note__contains="no Patient ID"
    ).exists()


def test_an_instance_over_the_size_limit_is_out_of_resources_and_leaves_nothing_behind(
    small_listener: DicomListener, tmp_path: Path
) -> None:
    ds = write_multiframe(tmp_path / "cine.dcm", frames=1)  # 900 kB
    originals_before = _files_below("originals")
    # Earlier tests of the session share HUB_DATA_DIR: only what this store leaves counts.
    spool_before = _files_below("dimse-spool")

    status = _store(small_listener, ds)

    assert status == 0xA700  # Refused: out of resources (PS3.4 B.2.3)
    assert not Capture.objects.exists()
    assert _files_below("originals") == originals_before
    assert _files_below("dimse-spool") == spool_before


def test_a_sop_class_the_hub_does_not_take_is_not_accepted(listener: DicomListener) -> None:
    ct_image = "1.2.840.10008.5.1.4.1.1.2"

    assoc = _associate(listener, ct_image, SecondaryCaptureImageStorage)
    try:
        accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    finally:
        assoc.release()

    assert accepted == {SecondaryCaptureImageStorage}
    assert MultiFrameTrueColorSecondaryCaptureImageStorage not in accepted


def test_a_c_stored_photo_is_archived_with_its_patient(
    listener: DicomListener,
    hub_stack: OrthancPeer,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    sent = write_sc_photo(tmp_path / "photo.dcm")

    result = subprocess.run(
        ["storescu", "-aet", "STORESCU", "-aec", settings.HUB_AE_TITLE, "-xy",
         "127.0.0.1", str(listener.port), str(tmp_path / "photo.dcm")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr + listener.log_tail()
    capture = wait_for_status(
        str(Capture.objects.get().id), "archived", "rejected", "failed", timeout=120
    )
    assert capture.status == "archived", capture.reason
    orthanc_id = hub_stack.find_instance(sent.SOPInstanceUID)
    assert orthanc_id, f"{sent.SOPInstanceUID} is not in the archive"
    archived = tmp_path / "archived.dcm"
    archived.write_bytes(hub_stack.instance_file(orthanc_id))
    ds = pydicom.dcmread(archived)
    assert (ds.PatientID, str(ds.PatientName), ds.AccessionNumber) == (
        "MRN-0042",
        "DOE^JANE",
        "ACC-7",
    )
    assert ds.PixelData == sent.PixelData
