"""Helpers for the tus tests: metadata, media files of a chosen size, raw requests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from tusclient.client import TusClient

from capture_api.models import ResumableUpload
from tests.media import make_jpeg

CONTEXT = {
    "patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE", "sex": "F"},
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
}
CONTEXT_JSON = json.dumps(CONTEXT)
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def metadata_header(filename: str = "wound.jpg", context: object = CONTEXT) -> str:
    """Upload-Metadata as the spec has it: `key base64(value)` pairs, comma-separated."""
    pairs = {"filename": filename, "context": json.dumps(context)}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def checksum_header(chunk: bytes, algorithm: str = "sha1") -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()}"


def make_media(path: Path, size: int) -> tuple[Path, str]:
    """A JPEG padded with random bytes to `size` (a camera trailer, as far as sniffing goes).

    Written in pieces so a 300 MB file never sits in memory; returns its sha256.
    """
    head = make_jpeg(path.with_suffix(".head.jpg"), width=64, height=48).read_bytes()
    digest = hashlib.sha256(head)
    with path.open("wb") as out:
        out.write(head)
        left = size - len(head)
        while left > 0:
            piece = os.urandom(min(left, 8 * 1024 * 1024))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return path, digest.hexdigest()


def read_range(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(size)


class HalfSentPatch:
    """A PATCH that announces a whole chunk but sends only part of it: a dropped connection.

    Built on a bare socket because no HTTP client will send less than it promised.
    """

    def __init__(self, url: str, *, token: str, offset: int, announced: int) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        head = (
            f"PATCH {parts.path} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            f"Authorization: Token {token}\r\n"
            "Tus-Resumable: 1.0.0\r\n"
            f"Content-Type: {OCTETS}\r\n"
            f"Upload-Offset: {offset}\r\n"
            f"Content-Length: {announced}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.sock.sendall(head.encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def hang_up(self) -> str:
        """Stops sending (half-close) and returns the server's status line and headers."""
        self.sock.shutdown(socket.SHUT_WR)
        answer = b""
        while piece := self.sock.recv(65536):
            answer += piece
        self.sock.close()
        return answer.decode("latin-1")

    def reset(self) -> None:
        """Drops the connection with a TCP reset, as a phone leaving Wi-Fi range may."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def upload_id_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def tus_client(base_url: str, token: str) -> TusClient:
    """The unmodified tuspy client, pointed at the creation URL, with the API's token."""
    return TusClient(f"{base_url}/api/v1/uploads/", headers={"Authorization": f"Token {token}"})


def capture_of(base_url: str, token: str, upload_url: str) -> dict:
    """The one capture `GET /api/v1/captures?upload=ID` finds."""
    response = requests.get(
        f"{base_url}/api/v1/captures",
        params={"upload": upload_id_of(upload_url)},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    [capture] = response.json()["results"]
    return capture


def raw_patch(url: str, token: str, offset: int, data: bytes, **headers: str) -> requests.Response:
    headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": str(offset), **headers}
    headers["Authorization"] = f"Token {token}"
    return requests.patch(url, data=data, headers=headers, timeout=30)


def raw_offset(url: str, token: str) -> int:
    headers = {**TUS, "Authorization": f"Token {token}"}
    return int(requests.head(url, headers=headers, timeout=30).headers["Upload-Offset"])


def wait_for_lease(upload: ResumableUpload, *, held: bool) -> None:
    """Waits until a request on the live server holds (or has let go of) the upload."""
    for _ in range(500):
        upload.refresh_from_db()
        if bool(upload.lease_token) == held:
            return
        time.sleep(0.02)
    raise AssertionError(f"the upload's lease never became {'held' if held else 'free'}")
