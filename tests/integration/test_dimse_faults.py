"""The listener killed in the middle of a large C-STORE: the device never hears
Success, nothing is recorded, and the same instance sent again is stored once."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pydicom
import pytest
from django.conf import settings
from pynetdicom import AE

from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.integration.dimse_objects import write_multiframe
from tests.integration.faults import wait_until
from tests.integration.listener import DicomListener

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _store(port: int, ds: pydicom.Dataset) -> pydicom.Dataset:
    ae = AE(ae_title="DEVICE")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title=settings.HUB_AE_TITLE)
    assert assoc.is_established
    try:
        return assoc.send_c_store(ds)
    finally:
        if assoc.is_established:
            assoc.release()


def _spooled_bytes() -> int:
    spool = Path(settings.HUB_DATA_DIR) / "dimse-spool"
    return max((p.stat().st_size for p in spool.iterdir() if p.is_file()), default=0)


def test_a_listener_killed_mid_transfer_records_nothing_and_the_resend_is_stored_once(
    tmp_path: Path,
) -> None:
    ds = write_multiframe(tmp_path / "cine.dcm", frames=64)
    listener = DicomListener(tmp_path / "listener.log", callers="DEVICE@127.0.0.1")
    listener.start()
    try:
        answers: list[pydicom.Dataset] = []
        sender = threading.Thread(target=lambda: answers.append(_store(listener.port, ds)))
        before = _spooled_bytes()
        sender.start()
        wait_until(
            lambda: _spooled_bytes() > max(before, 5_000_000),
            timeout=60,
            what="5 MB of the data set spooled",
            log=listener.log_tail(),
        )
        assert listener.process is not None
        listener.process.send_signal(signal.SIGKILL)
        listener.process.wait(timeout=10)
        sender.join(timeout=60)

        [cut_short] = answers
        assert "Status" not in cut_short  # no answer, so no Success: the device sends again
        assert not Capture.objects.exists()

        listener.start()
        resent = _store(listener.port, ds)
    finally:
        listener.stop()

    assert int(resent.Status) == 0x0000
    capture = Capture.objects.get()
    kept = pydicom.dcmread(data_path(capture.original_path), stop_before_pixels=True)
    assert kept.SOPInstanceUID == ds.SOPInstanceUID
