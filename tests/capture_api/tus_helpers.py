"""Helpers for the tus tests: metadata, media files of a chosen size, raw requests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
from pathlib import Path
from urllib.parse import urlsplit

from tests.media import make_jpeg

CONTEXT = {
    "patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE", "sex": "F"},
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
}
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
