"""The hub's public HTTP API, as the agent uses it: tus uploads and capture look-ups.

Uploads go through the unmodified tuspy client (tus 1.0.0 at /api/v1/uploads/).
Every failure is sorted into one of two kinds, so the caller knows whether to
try again: `HubRefused` (the hub's error envelope says `retryable: false`; the
file goes to `failed/` with the hub's reason) and `HubUnavailable` (the
envelope says `retryable: true`, or there was no answer from the hub at all;
the file stays and is tried again later). `classify` is the one place that
decides; it keeps no list of statuses of its own (docs/api-errors.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

UPLOADS_PATH = "/api/v1/uploads/"
CAPTURES_PATH = "/api/v1/captures"
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
LOOKUP_TIMEOUT_SECONDS = 30
# The header that names the agent's own credentials in the envelope's `field`.
AUTHORIZATION = "Authorization"
# Error codes of uploads the hub no longer has: the file is sent again, from the start.
_UPLOAD_GONE_CODES = {"upload_not_found", "upload_lost"}


@dataclass(frozen=True)
class HubError:
    """The hub's error envelope: `{"error": {code, message, field, retryable}}`."""

    code: str
    message: str
    field: str | None
    retryable: bool

    @classmethod
    def of(cls, content: bytes | str | None) -> HubError | None:
        """The envelope in an error body; None when the body is not one (not the hub's)."""
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        try:
            error = json.loads(text or "")["error"]
            return cls(
                code=str(error["code"]),
                message=str(error["message"]),
                field=error.get("field"),
                retryable=bool(error["retryable"]),
            )
        except (ValueError, TypeError, KeyError):
            return None


class HubRefused(Exception):
    """The hub will not take the file; `reason` is its one-line explanation."""

    def __init__(self, reason: str, *, status: int, error: HubError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error = error

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None

    @property
    def credentials_at_fault(self) -> bool:
        """The agent's token, not the file, is what the hub refused (401, 403)."""
        return self.error is not None and self.error.field == AUTHORIZATION


class HubUnavailable(Exception):
    """The hub could not be reached or failed; worth trying again later.

    `retry_after` is the hub's Retry-After, in seconds, when it sent one.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class UploadGone(Exception):
    """The hub does not know the upload URL (expired or removed): start a new upload."""


class Stopped(Exception):
    """The agent is shutting down; the upload stops between two chunks."""


@dataclass(frozen=True)
class UploadResult:
    upload_url: str
    size: int
    # Bytes this call sent: less than `size` when it resumed.
    sent: int


class HubClient:
    """One hub, one device token."""

    def __init__(self, hub_url: str, token: str, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.chunk_bytes = chunk_bytes
        self._headers = {"Authorization": f"Token {token}"}
        self._tus = TusClient(self.hub_url + UPLOADS_PATH, headers=dict(self._headers))

    def create_upload(self, path: Path, *, metadata: dict[str, str]) -> str:
        """tus Creation: the upload's URL; nothing is sent yet. The hub checks the context here."""
        uploader = self._tus.uploader(str(path), chunk_size=self.chunk_bytes, metadata=metadata)
        try:
            return uploader.create_url()
        except TusCommunicationError as error:
            raise _of_tus(error, "creating the upload") from None

    def send(
        self,
        path: Path,
        upload_url: str,
        *,
        should_stop: Callable[[], bool],
        progress: Callable[[int, int], None],
        pace: Callable[[int], None] = lambda sent: None,
    ) -> UploadResult:
        """Sends what the hub lacks, chunk by chunk, from the offset the hub reports (HEAD).

        Stops between chunks when `should_stop()` says so (raising Stopped):
        the hub keeps everything up to its offset, so nothing is lost.
        """
        try:
            uploader = self._tus.uploader(
                str(path), url=upload_url, chunk_size=self.chunk_bytes, upload_checksum=True
            )
        except TusCommunicationError as error:
            # A HEAD answer has no body, so no envelope: tus gives its statuses their meaning.
            if error.status_code == 404:
                raise UploadGone(upload_url) from None
            if error.status_code == 410:
                raise HubRefused(
                    "HTTP 410: the hub refused this file earlier", status=410
                ) from None
            raise classify(
                error.status_code, None, doing="asking for the upload's offset"
            ) from None
        size = uploader.get_file_size()
        start = uploader.offset
        progress(start, size)
        while uploader.offset < size:
            if should_stop():
                raise Stopped()
            before = uploader.offset
            try:
                uploader.upload_chunk()
            except TusCommunicationError as error:
                headers = getattr(uploader.request, "response_headers", None) or {}
                failure = _of_tus(error, "sending a chunk", retry_after=headers.get("retry-after"))
                if isinstance(failure, HubRefused) and failure.code in _UPLOAD_GONE_CODES:
                    raise UploadGone(upload_url) from None
                raise failure from None
            progress(uploader.offset, size)
            pace(uploader.offset - before)
        return UploadResult(upload_url=upload_url, size=size, sent=size - start)

    def capture_for_upload(self, upload_url: str) -> dict[str, Any] | None:
        """The capture the upload became (`GET /api/v1/captures?upload=ID`), or None yet."""
        upload_id = upload_url.rstrip("/").rsplit("/", 1)[1]
        data = self._get_json(CAPTURES_PATH, params={"upload": upload_id})
        results = data.get("results", [])
        return results[0] if results else None

    def capture(self, capture_id: str) -> dict[str, Any]:
        return self._get_json(f"{CAPTURES_PATH}/{capture_id}")

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = requests.get(
                self.hub_url + path,
                params=params,
                headers=self._headers,
                timeout=LOOKUP_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            raise HubUnavailable(f"looking up the capture: {error}") from None
        if response.status_code >= 400:
            raise classify(
                response.status_code,
                response.content,
                doing="looking up the capture",
                retry_after=response.headers.get("Retry-After"),
            )
        return response.json()


def classify(
    status: int | None,
    content: bytes | str | None,
    *,
    doing: str,
    retry_after: str | None = None,
) -> HubRefused | HubUnavailable:
    """The one retry decision: from the hub's envelope, never from the status alone.

    No answer at all (network) and an answer that is not the hub's envelope (a
    proxy's page, a wrong hub URL, a bodiless HEAD) are retried: they say
    nothing about the file. Otherwise `retryable` decides.
    """
    if status is None:
        return HubUnavailable(f"{doing}: {content or 'no answer'}")
    error = HubError.of(content)
    if error is None:
        return HubUnavailable(f"{doing}: HTTP {status} without the hub's error envelope")
    reason = f"HTTP {status}: " + (f"{error.field}: " if error.field else "") + error.message
    reason = " ".join(reason.split())
    if error.retryable:
        return HubUnavailable(f"{doing}: {reason}", retry_after=_seconds(retry_after))
    return HubRefused(reason, status=status, error=error)


def _of_tus(
    error: TusCommunicationError, doing: str, *, retry_after: str | None = None
) -> HubRefused | HubUnavailable:
    if error.status_code is None:
        return classify(None, str(error), doing=doing)
    return classify(error.status_code, error.response_content, doing=doing, retry_after=retry_after)


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds (the delay form; an HTTP-date is not worth parsing here)."""
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:
        return None
