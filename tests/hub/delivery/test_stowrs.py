"""STOW-RS delivery against a real Orthanc (and a stub only for what Orthanc never answers)."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import JPEGBaseline8Bit

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt
from hub.delivery.senders.stowrs import StowRsClient
from tests.hub.delivery.photos import VL_PHOTOGRAPHIC_IMAGE_STORAGE, write_photo
from tests.peers.orthanc import OrthancPeer

pytestmark = pytest.mark.integration


@pytest.fixture
def client(running_archive: OrthancPeer) -> StowRsClient:
    return StowRsClient(
        running_archive.dicomweb_url,
        username=running_archive.username,
        password=running_archive.password,
        timeout=10,
    )


def stored_dataset(archive: OrthancPeer, sop_instance_uid: str) -> Dataset:
    orthanc_id = archive.find_instance(sop_instance_uid)
    assert orthanc_id is not None, f"{sop_instance_uid} is not in the archive"
    return pydicom.dcmread(io.BytesIO(archive.instance_file(orthanc_id)))


# Against Orthanc


def test_store_puts_the_instance_in_the_archive_with_its_pixel_data(
    client: StowRsClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "photo.dcm")

    receipt = client.store([tmp_path / "photo.dcm"])

    assert receipt.stored_sop_instance_uids == (sent.SOPInstanceUID,)
    assert receipt.retrieve_url == (
        f"{running_archive.dicomweb_url}/studies/{sent.StudyInstanceUID}"
    )
    stored = stored_dataset(running_archive, sent.SOPInstanceUID)
    assert stored.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert stored.PixelData == sent.PixelData


def test_a_photo_over_one_megabyte_goes_through_streamed(
    client: StowRsClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "large.dcm", size=(1200, 1000), noise=True)
    assert (tmp_path / "large.dcm").stat().st_size > 10**6

    client.store([tmp_path / "large.dcm"])

    assert stored_dataset(running_archive, sent.SOPInstanceUID).PixelData == sent.PixelData


def test_storing_the_same_instance_twice_is_harmless(
    client: StowRsClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "photo.dcm")
    before = running_archive.count_instances()

    first = client.store([tmp_path / "photo.dcm"])
    second = client.store([tmp_path / "photo.dcm"])

    assert first == second
    assert running_archive.count_instances() == before + 1
    assert running_archive.find_instance(sent.SOPInstanceUID) is not None


def test_several_files_go_in_one_request(client: StowRsClient, tmp_path: Path) -> None:
    uids = [write_photo(tmp_path / f"{n}.dcm").SOPInstanceUID for n in range(3)]

    receipt = client.store([tmp_path / f"{n}.dcm" for n in range(3)])

    assert receipt.stored_sop_instance_uids == tuple(uids)


def test_wrong_password_is_permanent_and_says_what_to_check(
    running_archive: OrthancPeer, tmp_path: Path
) -> None:
    write_photo(tmp_path / "photo.dcm")
    client = StowRsClient(
        running_archive.dicomweb_url, username="orthanc", password="not-the-password"
    )

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "photo.dcm"])

    assert raised.value.transient is False
    assert "401" in raised.value.reason
    assert "HUB_STOWRS_PASSWORD" in raised.value.reason
    assert running_archive.dicomweb_url in raised.value.reason
    assert "not-the-password" not in raised.value.reason
    assert "\n" not in raised.value.reason


def test_wrong_url_is_permanent(running_archive: OrthancPeer, tmp_path: Path) -> None:
    write_photo(tmp_path / "photo.dcm")
    client = StowRsClient(
        f"{running_archive.url}/no-dicom-web-here", username="orthanc", password="orthanc"
    )

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "photo.dcm"])

    assert raised.value.transient is False
    assert "404" in raised.value.reason
    assert "HUB_STOWRS_URL" in raised.value.reason


def test_a_file_that_is_not_dicom_is_permanent(client: StowRsClient, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a DICOM file")

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "photo.jpg"])

    assert raised.value.transient is False
    assert "not a DICOM" in raised.value.reason


def test_an_instance_the_archive_refuses_is_permanent_and_named(
    client: StowRsClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    good = write_photo(tmp_path / "good.dcm")
    bad = write_photo(tmp_path / "bad.dcm")
    del bad.SeriesInstanceUID
    bad.save_as(tmp_path / "bad.dcm", enforce_file_format=True)

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "good.dcm", tmp_path / "bad.dcm"])

    assert raised.value.transient is False
    assert bad.SOPInstanceUID in raised.value.reason
    assert "0xC000 cannot understand" in raised.value.reason
    # Orthanc stores what it can of a partial request (HTTP 400).
    assert running_archive.find_instance(good.SOPInstanceUID) is not None


def test_archive_down_is_transient_and_the_retry_succeeds_once_it_is_back(
    client: StowRsClient, running_archive: OrthancPeer, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "photo.dcm")
    running_archive.stop()
    try:
        with pytest.raises(DeliveryError) as raised:
            client.store([tmp_path / "photo.dcm"])
        assert raised.value.transient is True
        assert "connection refused" in raised.value.reason
    finally:
        running_archive.start()

    receipt = client.store([tmp_path / "photo.dcm"])

    assert receipt.stored_sop_instance_uids == (sent.SOPInstanceUID,)
    assert running_archive.find_instance(sent.SOPInstanceUID) is not None


# Against a stub: only for answers Orthanc never gives (5xx, 429, 202, silence)


@dataclass
class StubArchive:
    status: int
    body: bytes = b""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dicom-web"


@pytest.fixture
def stub_archive() -> Iterator[StubArchive]:
    stub = StubArchive(status=500)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Transfer-Encoding") == "chunked":
                body = self._read_chunked()
            else:
                body = self.rfile.read(length)
            stub.requests.append((self.path, dict(self.headers), body))
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(len(stub.body)))
            self.end_headers()
            self.wfile.write(stub.body)

        def _read_chunked(self) -> bytes:
            body = b""
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return body

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def store_response(
    *, referenced: list[str], failed: Sequence[tuple[str, int]] = (), warning: int | None = None
) -> bytes:
    ds = Dataset()
    ds.ReferencedSOPSequence = []
    for uid in referenced:
        item = Dataset()
        item.ReferencedSOPClassUID = VL_PHOTOGRAPHIC_IMAGE_STORAGE
        item.ReferencedSOPInstanceUID = uid
        if warning is not None:
            item.WarningReason = warning
        ds.ReferencedSOPSequence.append(item)
    ds.FailedSOPSequence = []
    for uid, reason in failed:
        item = Dataset()
        item.ReferencedSOPClassUID = VL_PHOTOGRAPHIC_IMAGE_STORAGE
        item.ReferencedSOPInstanceUID = uid
        item.FailureReason = reason
        ds.FailedSOPSequence.append(item)
    return json.dumps(ds.to_json_dict()).encode()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_server_errors_and_throttling_are_transient(
    stub_archive: StubArchive, status: int, tmp_path: Path
) -> None:
    stub_archive.status = status
    sent = write_photo(tmp_path / "photo.dcm")
    client = StowRsClient(stub_archive.url, username="hub", password="secret-pw")

    with pytest.raises(DeliveryError) as raised:
        client.store([tmp_path / "photo.dcm"])

    assert raised.value.transient is True
    assert str(status) in raised.value.reason
    assert "secret-pw" not in raised.value.reason
    # One request: retries are the caller's, not dicomweb-client's.
    [(path, headers, body)] = stub_archive.requests
    assert path == "/dicom-web/studies"
    media_type, *params = [part.strip() for part in headers["Content-Type"].split(";")]
    assert media_type == "multipart/related"
    assert 'type="application/dicom"' in params
    assert headers["Authorization"].startswith("Basic ")
    assert headers["Host"] == f"127.0.0.1:{stub_archive.port}"
    assert b"DICM" in body
    assert sent.SOPInstanceUID.encode() in body


def test_accepted_with_warnings_is_success(stub_archive: StubArchive, tmp_path: Path) -> None:
    sent = write_photo(tmp_path / "photo.dcm")
    stub_archive.status = 202
    stub_archive.body = store_response(referenced=[sent.SOPInstanceUID], warning=0xB000)

    receipt = StowRsClient(stub_archive.url).store([tmp_path / "photo.dcm"])

    assert receipt == Receipt(stored_sop_instance_uids=(sent.SOPInstanceUID,), retrieve_url=None)


def test_the_body_is_sent_with_its_content_length_not_chunked(
    stub_archive: StubArchive, tmp_path: Path
) -> None:
    """Orthanc 1.10 burns ten times the CPU on a chunked body: the length goes first."""
    first = write_photo(tmp_path / "a.dcm", size=(1200, 1000), noise=True)
    second = write_photo(tmp_path / "b.dcm")
    stub_archive.status = 200
    stub_archive.body = store_response(referenced=[first.SOPInstanceUID, second.SOPInstanceUID])

    StowRsClient(stub_archive.url).store([tmp_path / "a.dcm", tmp_path / "b.dcm"])

    ((_, headers, body),) = stub_archive.requests
    assert "Transfer-Encoding" not in headers
    assert int(headers["Content-Length"]) == len(body)
    boundary = headers["Content-Type"].split("boundary=")[1]
    parts = body.split(f"--{boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    sent = [part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n") for part in parts[1:-1]]
    assert sent == [(tmp_path / "a.dcm").read_bytes(), (tmp_path / "b.dcm").read_bytes()]


def test_a_failed_sop_in_an_accepted_answer_is_a_failure(
    stub_archive: StubArchive, tmp_path: Path
) -> None:
    good = write_photo(tmp_path / "good.dcm")
    bad = write_photo(tmp_path / "bad.dcm")
    stub_archive.status = 202
    stub_archive.body = store_response(
        referenced=[good.SOPInstanceUID], failed=[(bad.SOPInstanceUID, 0xA900)]
    )

    with pytest.raises(DeliveryError) as raised:
        StowRsClient(stub_archive.url).store([tmp_path / "good.dcm", tmp_path / "bad.dcm"])

    assert raised.value.transient is False
    assert f"{bad.SOPInstanceUID} (0xA900 data set does not match SOP class)" in (
        raised.value.reason
    )


def test_an_archive_out_of_resources_is_transient(
    stub_archive: StubArchive, tmp_path: Path
) -> None:
    sent = write_photo(tmp_path / "photo.dcm")
    stub_archive.status = 202
    stub_archive.body = store_response(referenced=[], failed=[(sent.SOPInstanceUID, 0xA700)])

    with pytest.raises(DeliveryError) as raised:
        StowRsClient(stub_archive.url).store([tmp_path / "photo.dcm"])

    assert raised.value.transient is True
    assert "0xA700 out of resources" in raised.value.reason


def test_an_instance_missing_from_the_receipt_is_a_failure(
    stub_archive: StubArchive, tmp_path: Path
) -> None:
    first = write_photo(tmp_path / "first.dcm")
    second = write_photo(tmp_path / "second.dcm")
    stub_archive.status = 200
    stub_archive.body = store_response(referenced=[first.SOPInstanceUID])

    with pytest.raises(DeliveryError) as raised:
        StowRsClient(stub_archive.url).store([tmp_path / "first.dcm", tmp_path / "second.dcm"])

    assert raised.value.transient is False
    assert second.SOPInstanceUID in raised.value.reason
    assert first.SOPInstanceUID not in raised.value.reason


def test_an_archive_that_does_not_answer_in_time_is_transient(tmp_path: Path) -> None:
    write_photo(tmp_path / "photo.dcm")
    # A listening socket that never accepts: the connection completes in the
    # kernel's backlog and the response never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        client = StowRsClient(f"http://127.0.0.1:{port}/dicom-web", timeout=0.5)

        with pytest.raises(DeliveryError) as raised:
            client.store([tmp_path / "photo.dcm"])

    assert raised.value.transient is True
    assert "did not answer in time" in raised.value.reason
