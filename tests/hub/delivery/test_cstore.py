"""C-STORE delivery against the same real Orthanc."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.cstore import CStoreClient
from tests.hub.delivery.photos import write_photo
from tests.peers.orthanc import OrthancPeer

pytestmark = pytest.mark.integration


@pytest.fixture
def client(running_archive: OrthancPeer) -> CStoreClient:
    return CStoreClient(
        "127.0.0.1", running_archive.dicom_port, called_aet=running_archive.aet, timeout=10
    )


def test_store_keeps_the_jpeg_transfer_syntax_and_pixel_data(
    client: CStoreClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    small = write_photo(tmp_path / "small.dcm")
    large = write_photo(tmp_path / "large.dcm", size=(1200, 1000), noise=True)

    receipt = client.store([tmp_path / "small.dcm", tmp_path / "large.dcm"])

    assert receipt.stored_sop_instance_uids == (small.SOPInstanceUID, large.SOPInstanceUID)
    orthanc_id = running_archive.find_instance(large.SOPInstanceUID)
    assert orthanc_id is not None
    stored = pydicom.dcmread(io.BytesIO(running_archive.instance_file(orthanc_id)))
    assert stored.file_meta.TransferSyntaxUID == large.file_meta.TransferSyntaxUID
    assert stored.PixelData == large.PixelData


def test_storing_the_same_instance_twice_is_harmless(
    client: CStoreClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    write_photo(tmp_path / "photo.dcm")
    before = running_archive.count_instances()

    client.store([tmp_path / "photo.dcm"])
    client.store([tmp_path / "photo.dcm"])

    assert running_archive.count_instances() == before + 1


def test_a_file_that_is_not_dicom_is_permanent(client: CStoreClient, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a DICOM file")

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "photo.jpg"])

    assert raised.value.transient is False


def test_a_refused_instance_is_named(client: CStoreClient, tmp_path: Path) -> None:
    bad = write_photo(tmp_path / "bad.dcm")
    del bad.SeriesInstanceUID
    bad.save_as(tmp_path / "bad.dcm", enforce_file_format=True)

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "bad.dcm"])

    # Orthanc answers 0xA700 (out of resources) for any data set it cannot
    # index; A7xx is retried (bounded) because a full archive recovers.
    assert bad.SOPInstanceUID in raised.value.reason
    assert "0xA700" in raised.value.reason


def test_archive_down_is_transient_and_the_retry_succeeds_once_it_is_back(
    client: CStoreClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "photo.dcm")
    running_archive.stop()
    try:
        with pytest.raises(DeliveryError) as raised:
            client.store([tmp_path / "photo.dcm"])
        assert raised.value.transient is True
    finally:
        running_archive.start()

    client.store([tmp_path / "photo.dcm"])

    assert running_archive.find_instance(sent.SOPInstanceUID) is not None
