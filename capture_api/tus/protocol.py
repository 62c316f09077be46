"""tus 1.0.0 headers: what the server announces, and parsing of what clients send.

Section names refer to https://tus.io/protocols/resumable-upload (version 1.0.0).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils.http import http_date

from capture_api.errors import ApiProblem

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-with-upload", "termination", "checksum", "expiration")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# tus 1.0.0 "Checksum": 460 is the protocol's own status for a mismatch.
CHECKSUM_MISMATCH = 460
# Django knows no phrase for 460; tusd's, so logs and status lines read well.
REASON_PHRASES = {CHECKSUM_MISMATCH: "Checksum Mismatch"}

ALGORITHMS: dict[str, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "sha256": hashlib.sha256,
}

# Headers.Upload-Metadata: a key has no spaces or commas and is not empty.
_METADATA_KEY = re.compile(r"^[^\s,]+$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


class TusRefusal(ApiProblem):
    """A request the server will not carry out, with the status the protocol names.

    Answered in the API's error envelope (capture_api.errors), so clients read
    one kind of error whichever way they upload; `field` names the header,
    `file` or `context` at fault, as the capture API does.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str,
        status: int = 400,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason, status=status, code=code, field=field, headers=headers)
        self.reason = reason


@dataclass(frozen=True)
class Checksum:
    """Upload-Checksum of one PATCH (tus 1.0.0 Checksum extension)."""

    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        return ALGORITHMS[self.algorithm]()


def server_headers(*, max_size: int) -> dict[str, str]:
    """What OPTIONS answers (tus 1.0.0 Core Protocol, Requests.OPTIONS)."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(TUS_EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(ALGORITHMS),
    }


def require_version(value: str | None) -> None:
    """Headers.Tus-Resumable: every request but OPTIONS names the version; 412 otherwise."""
    if value != TUS_VERSION:
        raise TusRefusal(
            f"this server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}",
            code="tus_version_unsupported",
            status=412,
            field="Tus-Resumable",
            headers={"Tus-Version": TUS_VERSION},
        )


def require_offset_content_type(value: str | None) -> None:
    """Requests.PATCH: the body MUST be sent as application/offset+octet-stream (else 415)."""
    if (value or "").split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
        raise TusRefusal(
            f"send the bytes as Content-Type: {OFFSET_CONTENT_TYPE}",
            code="content_type_unsupported",
            status=415,
            field="Content-Type",
        )


def parse_size(value: str | None, *, header: str) -> int:
    """A non-negative integer header (Upload-Offset, Upload-Length)."""
    if value is None or not _DIGITS.match(value.strip()):
        raise TusRefusal(
            f"{header} must be a non-negative integer", code="header_invalid", field=header
        )
    return int(value)


def parse_metadata(value: str | None) -> dict[str, bytes]:
    """Headers.Upload-Metadata: comma-separated `key base64value` pairs; keys unique."""
    pairs: dict[str, bytes] = {}
    if not value or not value.strip():
        return pairs
    for item in value.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _METADATA_KEY.match(key):
            raise TusRefusal(
                "Upload-Metadata keys must be non-empty, without spaces or commas",
                code="header_invalid",
                field="Upload-Metadata",
            )
        if key in pairs:
            raise TusRefusal(
                f"Upload-Metadata names {key!r} twice",
                code="header_invalid",
                field="Upload-Metadata",
            )
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise TusRefusal(
                f"Upload-Metadata value of {key!r} is not base64",
                code="header_invalid",
                field="Upload-Metadata",
            ) from None
    return pairs


def parse_checksum(value: str | None) -> Checksum | None:
    """Upload-Checksum: `algorithm base64digest`; an unknown algorithm is a 400 (Checksum)."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in ALGORITHMS:
        raise TusRefusal(
            f"checksum algorithm {algorithm!r} is not supported; use one of "
            + ", ".join(ALGORITHMS),
            code="checksum_algorithm_unsupported",
            field="Upload-Checksum",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TusRefusal(
            "Upload-Checksum digest is not base64", code="header_invalid", field="Upload-Checksum"
        ) from None
    if len(digest) != ALGORITHMS[algorithm]().digest_size:
        raise TusRefusal(
            f"Upload-Checksum digest is not a {algorithm} digest",
            code="header_invalid",
            field="Upload-Checksum",
        )
    return Checksum(algorithm=algorithm, digest=digest)


def expires_header(moment: datetime) -> str:
    """Expiration: Upload-Expires is an RFC 9110 HTTP-date."""
    return http_date(moment.timestamp())
