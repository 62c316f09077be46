"""STOW-RS delivery: send PS3.10 files to a DICOMweb archive (PS3.18 10.5).

Plain Python on purpose: no Django here. The hub builds one `StowRsClient`
from its settings and calls `store()`; every failure comes back as a
`DeliveryError` that says whether sending the same files again later can help
(`transient`) or a person has to act first (permanent), with a one-line reason
they can act on.

Memory: the multipart body is streamed from the files on disk in 1 MiB
pieces with its Content-Length computed from the files' sizes, so a
multi-gigabyte video costs no more memory than a photo. dicomweb-client would
re-encode each dataset and build the whole body in memory first, which is why
the request is made here; only the response is judged as it would.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pydicom
import requests

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt, failure_reason, read_instance

CONNECT_TIMEOUT = 10.0
BODY_CHUNK_BYTES = 1024 * 1024

# Status codes that a later attempt can get past without anyone changing the
# request: the archive or something in front of it is busy, down or slow.
TRANSIENT_HTTP_STATUSES = frozenset(
    {
        HTTPStatus.REQUEST_TIMEOUT,
        HTTPStatus.TOO_MANY_REQUESTS,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.BAD_GATEWAY,
        HTTPStatus.SERVICE_UNAVAILABLE,
        HTTPStatus.GATEWAY_TIMEOUT,
    }
)


class StowRsClient:
    """Stores PS3.10 files with one STOW-RS request (POST {url}/studies)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        verify_tls: bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self._secrets = tuple(s for s in (password,) if s)
        self._session = requests.Session()
        self._session.verify = verify_tls
        if username is not None:
            self._session.auth = (username, password or "")
        # PS3.18 10.5.3: the response is application/dicom+json.
        self._session.headers["Accept"] = "application/dicom+json"
        self._timeout = (min(CONNECT_TIMEOUT, timeout), timeout)

    @property
    def display_url(self) -> str:
        """The URL without any user:password part, for messages."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def store(self, paths: Sequence[Path]) -> Receipt:
        """Store the files and return the archive's receipt.

        Succeeds only if every file's SOP Instance UID comes back in the
        Referenced SOP Sequence (0008,1199); a Warning Reason there (HTTP 202)
        is still success. Sending the same instances again is harmless: the
        archive replaces or keeps what it has.
        """
        if not paths:
            raise ValueError("store() needs at least one file")
        requested = [
            str(read_instance(Path(path), stop_before_pixels=True).SOPInstanceUID) for path in paths
        ]
        boundary = f"hub-{uuid.uuid4().hex}"
        try:
            # Retries belong to the caller (bounded, with backoff, only for
            # transient errors); none are made here.
            response = self._session.post(
                f"{self.url}/studies",
                data=MultipartBody([Path(p) for p in paths], boundary),
                headers={
                    # PS3.18 10.5.1.1; Orthanc answers 415 without `type=`.
                    "Content-Type": (
                        f'multipart/related; type="application/dicom"; boundary={boundary}'
                    ),
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc) from exc
        except OSError as exc:
            raise self._error(f"could not be sent a file: {exc}", transient=False) from exc
        if response.status_code >= 400:
            raise self._http_error(response)
        try:
            answer = pydicom.Dataset.from_json(response.json()) if response.content else None
        except (ValueError, TypeError, KeyError) as exc:
            raise self._error(
                f"answered with a STOW-RS response that cannot be read ({exc})", transient=False
            ) from exc
        if answer is None:
            raise self._error("answered with an empty STOW-RS response", transient=False)
        return self._receipt(answer, requested)

    # Judging the answer

    def _receipt(self, response: pydicom.Dataset, requested: Sequence[str]) -> Receipt:
        failed = _failures(response)
        if failed:
            raise self._error(f"refused {failed}", transient=_only_out_of_resources(response))
        stored = [
            str(item.ReferencedSOPInstanceUID)
            for item in response.get("ReferencedSOPSequence", [])
            if "ReferencedSOPInstanceUID" in item
        ]
        missing = [uid for uid in requested if uid not in stored]
        if missing:
            raise self._error(
                f"did not acknowledge SOP instance(s) {', '.join(missing)} "
                "(absent from its Referenced SOP Sequence)",
                transient=False,
            )
        retrieve_url = response.get("RetrieveURL")
        return Receipt(
            stored_sop_instance_uids=tuple(requested),
            retrieve_url=str(retrieve_url) if retrieve_url else None,
        )

    def _http_error(self, response: requests.Response) -> DeliveryError:
        status = response.status_code
        label = f"{status} {_status_phrase(status)}".strip()
        failed = _failures(_response_dataset(response))
        detail = f": refused {failed}" if failed else ""
        if status == HTTPStatus.UNAUTHORIZED:
            return self._error(
                f"refused the credentials ({label}): check HUB_STOWRS_USERNAME/HUB_STOWRS_PASSWORD",
                transient=False,
            )
        if status == HTTPStatus.FORBIDDEN:
            return self._error(
                f"does not allow this user to store ({label}): grant STOW-RS to "
                "HUB_STOWRS_USERNAME on the archive",
                transient=False,
            )
        if status in (HTTPStatus.NOT_FOUND, HTTPStatus.METHOD_NOT_ALLOWED):
            return self._error(
                f"has no STOW-RS service there ({label}): check HUB_STOWRS_URL "
                "(the DICOMweb root, e.g. http://host:8042/dicom-web)",
                transient=False,
            )
        if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            return self._error(
                f"refused the request as too large ({label}): raise the archive's "
                "(or its proxy's) body size limit or send the instances by C-STORE",
                transient=False,
            )
        if status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE:
            return self._error(
                f"refused the media type ({label}): it wants "
                'multipart/related; type="application/dicom" with PS3.10 files',
                transient=False,
            )
        if status == HTTPStatus.CONFLICT:
            return self._error(
                f"answered {label}{detail or ': instances conflict'}", transient=False
            )
        if status in TRANSIENT_HTTP_STATUSES or (
            status >= 500 and status not in (HTTPStatus.NOT_IMPLEMENTED, 505)
        ):
            return self._error(f"answered {label}{detail}: will retry", transient=True)
        return self._error(f"answered {label}{detail or ': refused the request'}", transient=False)

    def _transport_error(self, exc: requests.RequestException) -> DeliveryError:
        # SSLError is a ConnectionError, but a bad certificate does not fix itself.
        if isinstance(exc, requests.exceptions.SSLError):
            return self._error(
                f"failed the TLS handshake ({_cause(exc)}): check its certificate",
                transient=False,
            )
        if isinstance(exc, requests.Timeout):
            return self._error(f"did not answer in time ({_cause(exc)})", transient=True)
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return self._error(f"could not be reached ({_cause(exc)})", transient=True)
        return self._error(f"could not be sent the request ({type(exc).__name__})", transient=False)

    def _error(self, what: str, *, transient: bool) -> DeliveryError:
        reason = f"archive at {self.display_url} {what}"
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return DeliveryError(" ".join(reason.split()), transient=transient)


class MultipartBody:
    """multipart/related parts, one PS3.10 file each, read from disk piece by piece.

    Its length is known before a byte is sent (the parts' headers plus the
    files' sizes), so the request carries a Content-Length instead of being
    chunked: Orthanc 1.10 spends about ten times the CPU on a chunked body of
    the same size (bench/README.md, video_path.py). A file that changes size
    while it is sent is an error, never a body that disagrees with its length.
    """

    def __init__(self, paths: Sequence[Path], boundary: str) -> None:
        self._parts = [
            (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode(), path)
            for path in paths
        ]
        self._sizes = [path.stat().st_size for path in paths]
        self._closing = f"--{boundary}--\r\n".encode()

    def __len__(self) -> int:
        framing = sum(len(header) + len(b"\r\n") for header, _ in self._parts)
        return framing + sum(self._sizes) + len(self._closing)

    def __iter__(self) -> Iterator[bytes]:
        for (header, path), size in zip(self._parts, self._sizes, strict=True):
            yield header
            sent = 0
            with path.open("rb") as source:
                while chunk := source.read(BODY_CHUNK_BYTES):
                    sent += len(chunk)
                    yield chunk
            if sent != size:
                raise OSError(f"{path} changed size while it was sent ({size} -> {sent} bytes)")
            yield b"\r\n"
        yield self._closing


def _response_dataset(response: requests.Response) -> pydicom.Dataset:
    """The Store Instances Response in an error answer, or an empty dataset."""
    try:
        return pydicom.Dataset.from_json(response.json())
    except (ValueError, TypeError, KeyError):
        return pydicom.Dataset()


def _failures(response: pydicom.Dataset) -> str:
    """'<uid> (0xC000 cannot understand), ...' for the Failed SOP Sequence."""
    failures = []
    for item in response.get("FailedSOPSequence", []):
        uid = item.get("ReferencedSOPInstanceUID", "(no SOP Instance UID)")
        failures.append(f"{uid} ({failure_reason(item.get('FailureReason'))})")
    return ", ".join(failures)


def _only_out_of_resources(response: pydicom.Dataset) -> bool:
    # A7xx means the archive is full or busy: sending the same data later can
    # work once someone makes room, unlike every other failure reason.
    codes: Iterable[int | None] = (
        item.get("FailureReason") for item in response.get("FailedSOPSequence", [])
    )
    return all(code is not None and code >> 8 == 0xA7 for code in codes)


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _cause(exc: BaseException) -> str:
    """A short cause for a transport error, e.g. 'connection refused'."""
    text = str(exc)
    for pattern, cause in (
        (r"Connection refused", "connection refused"),
        (r"Connection reset|RemoteDisconnected|Connection aborted", "connection reset"),
        (r"Read timed out", "read timed out"),
        (r"timed out", "connect timed out"),
        (r"Name or service not known|nodename nor servname|getaddrinfo failed", "unknown host"),
        (r"No route to host", "no route to host"),
        (r"certificate verify failed", "certificate verify failed"),
    ):
        if re.search(pattern, text):
            return cause
    return type(exc).__name__
