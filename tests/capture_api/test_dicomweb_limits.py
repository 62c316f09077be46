"""STOW-RS size limits: refused from Content-Length before the body, and a part cut off
as soon as it passes HUB_MAX_UPLOAD_BYTES, answered before the client has sent the rest.

A raw socket client sends the body only up to a point and then waits: a server
that read parts whole would wait with it, and no answer would come.
"""

from __future__ import annotations

import json
import socket
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

import pydicom
import pytest

from hub.accounts.roles import Role
from hub.captures.models import Capture
from tests.capture_api.test_dicomweb_stow import dicom_bytes, photo
from tests.conftest import api_client_for
from tests.media_video import make_h264

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 256 * 1024
ANSWER_TIMEOUT = 20.0


@pytest.fixture
def token(transactional_db: None, settings) -> str:
    settings.HUB_MAX_UPLOAD_BYTES = LIMIT
    return api_client_for("limits-device", Role.CAPTURER).token  # type: ignore[attr-defined]


def part(headers: str, body: bytes = b"") -> bytes:
    return b"--B\r\n" + headers.encode() + b"\r\n\r\n" + body


def send_partly(
    live_server, token: str, *, root_type: str, length: int, sent: list[bytes | Path]
) -> tuple[int, dict, int]:
    """Announce `length` bytes, send only `sent` (a file by sendfile), then wait for the answer.

    The status, the JSON body and how many bytes of the body were sent.
    """
    url = urlsplit(live_server.url)
    head = (
        f"POST /dicom-web/studies HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Token {token}\r\n"
        f'Content-Type: multipart/related; type="{root_type}"; boundary=B\r\n'
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=ANSWER_TIMEOUT) as client:
        client.sendall(head)
        for piece in sent:
            if isinstance(piece, Path):
                with piece.open("rb") as file:
                    client.sendfile(file)
            else:
                client.sendall(piece)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = client.recv(65536)
            assert chunk, f"the server closed without an answer: {answer!r}"
            answer += chunk
        header, _, body = answer.partition(b"\r\n\r\n")
        announced = int(
            next(
                line.split(b":", 1)[1]
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        while len(body) < announced:
            chunk = client.recv(65536)
            assert chunk, "the answer was cut short"
            body += chunk
    status = int(header.split(b" ", 2)[1])
    size = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in sent)
    return status, json.loads(body), size


def test_a_declared_length_over_the_limit_is_413_before_any_body(live_server, token: str) -> None:
    status, body, sent = send_partly(
        live_server, token, root_type="application/dicom", length=50 * LIMIT, sent=[]
    )
    assert (status, sent) == (413, 0)
    assert body["error"]["code"] == "file_too_large"
    assert body["error"]["field"] == "Content-Length"


def test_a_part_over_the_limit_is_refused_before_the_client_sent_it_whole(
    live_server, token: str, tmp_path: Path
) -> None:
    stored = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    big = photo(tmp_path, "big.dcm", PatientID="MRN-0042")
    big_file = dicom_bytes(big) + b"\x00" * (2 * LIMIT)  # trailing padding: far over the limit
    first = part("Content-Type: application/dicom", dicom_bytes(stored) + b"\r\n")
    second_head = part("Content-Type: application/dicom")
    unsent_tail = LIMIT // 2
    body_length = len(first) + len(second_head) + len(big_file) + len(b"\r\n--B--\r\n")
    assert body_length < LIMIT + 1024 * 1024  # within what Content-Length lets in

    status, body, sent = send_partly(
        live_server,
        token,
        root_type="application/dicom",
        length=body_length,
        sent=[first, second_head, big_file[:-unsent_tail]],
    )

    assert sent < body_length
    assert status == 202, body
    answer = pydicom.Dataset.from_json(body)
    assert [i.ReferencedSOPInstanceUID for i in answer.ReferencedSOPSequence] == [
        stored.SOPInstanceUID
    ]
    [failed] = answer.FailedSOPSequence
    assert failed.FailureReason == 0xA700
    assert failed.ReferencedSOPInstanceUID == big.SOPInstanceUID  # read from the part's head
    assert Capture.objects.count() == 1


def test_a_wic_bulk_part_over_the_limit_is_413_before_the_client_sent_it_whole(
    live_server, token: str
) -> None:
    metadata = part("Content-Type: application/dicom+json", b"[]\r\n")
    bulk_head = part("Content-Type: video/mp4\r\nContent-Location: bulk/1")
    bulk = b"\x00" * (LIMIT + 256 * 1024)
    body_length = len(metadata) + len(bulk_head) + len(bulk) + 2 * LIMIT

    status, body, sent = send_partly(
        live_server,
        token,
        root_type="application/dicom+json",
        length=body_length,
        sent=[metadata, bulk_head, bulk],
    )

    assert sent < body_length
    assert status == 413
    assert body["error"]["code"] == "file_too_large"
    assert "video/mp4 (bulk/1)" in body["error"]["message"]
    assert Capture.objects.count() == 0


def test_wic_metadata_over_its_own_limit_is_413(live_server, token: str, settings) -> None:
    settings.HUB_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
    metadata = part("Content-Type: application/dicom+json", b"[" + b" " * (1024 * 1024 + 64 * 1024))
    status, body, _ = send_partly(
        live_server,
        token,
        root_type="application/dicom+json",
        length=len(metadata) + 1024 * 1024,
        sent=[metadata],
    )
    assert status == 413
    assert "application/dicom+json" in body["error"]["message"]


def test_a_200_mb_wic_video_is_received_in_bounded_memory(
    live_server, token: str, settings, tmp_path: Path
) -> None:
    """Every Python allocation of the process (the live server's thread included) is
    traced while a 200 MB bulk part arrives: the peak stays a small fraction of it."""
    settings.HUB_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
    clip = make_h264(tmp_path / "clip.mp4", seconds=0.2).read_bytes()
    video = tmp_path / "long.mp4"
    with video.open("wb") as out:  # the clip, then padding: receipt sniffs the head only
        out.write(clip)
        out.truncate(200 * 1024 * 1024)
    metadata = [
        {
            "00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.77.1.1.1"]},
            "00100020": {"vr": "LO", "Value": ["MRN-0042"]},
            "7FE00010": {"vr": "OB", "BulkDataURI": "bulk/video"},
        }
    ]
    head = part("Content-Type: application/dicom+json", json.dumps(metadata).encode() + b"\r\n")
    head += part("Content-Type: video/mp4\r\nContent-Location: bulk/video")
    tail = b"\r\n--B--\r\n"

    tracemalloc.start()
    try:
        status, body, _ = send_partly(
            live_server,
            token,
            root_type="application/dicom+json",
            length=len(head) + video.stat().st_size + len(tail),
            sent=[head, video, tail],
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert status == 200, body
    capture = Capture.objects.get()
    assert capture.original_size == video.stat().st_size
    assert peak < 16 * 1024 * 1024, f"{peak / 1e6:.1f} MB traced at the peak"
