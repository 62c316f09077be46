"""The hub's public HTTP API, as the agent uses it: tus uploads and capture look-ups.

Uploads go through the unmodified tuspy client (tus 1.0.0 at /api/v1/uploads/).
Every failure is sorted into one of two kinds, so the caller knows whether to
try again: `HubRefused` (a 4xx that will answer the same way next time; the
file goes to `failed/` with the hub's reason) and `HubUnavailable` (network
errors, 5xx, 423 and the like; the file stays and is tried again later).
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
# 4xx answers that say "not now" rather than "never".
_TRANSIENT_4XX = {408, 409, 423, 425, 429}


class HubRefused(Exception):
    """The hub will not take the file; `reason` is its one-line explanation."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class HubUnavailable(Exception):
    """The hub could not be reached or failed; worth trying again later."""


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
            raise _classified(error, "creating the upload") from None

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
            if error.status_code == 404:
                raise UploadGone(upload_url) from None
            raise _classified(error, "asking for the upload's offset") from None
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
                if error.status_code == 404:
                    raise UploadGone(upload_url) from None
                raise _classified(error, "sending a chunk") from None
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
        if response.status_code >= 500 or response.status_code in _TRANSIENT_4XX:
            raise HubUnavailable(f"looking up the capture: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise HubRefused(
                _reason(response.content, response.status_code), status=response.status_code
            )
        return response.json()


def _classified(error: TusCommunicationError, doing: str) -> Exception:
    status = error.status_code
    if status is None or status >= 500 or status in _TRANSIENT_4XX:
        detail = f"HTTP {status}" if status else str(error)
        return HubUnavailable(f"{doing}: {detail}")
    return HubRefused(_reason(error.response_content, status), status=status)


def _reason(content: bytes | str | None, status: int) -> str:
    """The hub's reason from its error body (`{"file": ["the file is empty"]}`), one line."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        for field, value in body.items():
            messages = value if isinstance(value, list) else [value]
            parts.extend(f"{field}: {message}" for message in messages)
    if not parts:
        parts = [text.strip() or "no reason given"]
    if status == 410 and parts == ["no reason given"]:
        parts = ["the hub refused this file earlier"]
    return f"HTTP {status}: " + "; ".join(" ".join(p.split()) for p in parts)
