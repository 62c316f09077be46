"""Taking one whole file to the hub, exactly once, however often the agent or hub stops.

The content's sha256 is the key. The journal holds, per content, the tus
upload URL (written before the first byte goes), then the capture the hub
made of it. A crash at any point resumes the same upload from the hub's
offset; content sent before, under any file name, is not sent again.

Transient trouble (no answer, an envelope saying `retryable: true`, the hub
not accepting the agent's token) is retried with capped exponential backoff,
never sooner than the hub's Retry-After, for as long as it lasts: a capture is
never dropped. A refusal (`retryable: false`, the file at fault) ends in
`failed/` with the hub's reason.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mobile_client.agent.completeness import unchanged_since
from mobile_client.agent.hub_client import (
    HubClient,
    HubRefused,
    HubUnavailable,
    Stopped,
    UploadGone,
)
from mobile_client.agent.journal import Journal, SendState
from mobile_client.agent.reporting import Reporter

HASH_PIECE = 1024 * 1024
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
# A Retry-After longer than this is taken as this: the agent keeps asking now and then.
RETRY_AFTER_MAX_SECONDS = 600.0
POLL_SECONDS = 1.0
# States after which a capture changes no more by itself.
SETTLED = {"archived", "rejected", "failed"}


class Result(StrEnum):
    DONE = "done"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    result: Result
    capture_id: str | None = None
    reason: str | None = None


class NotSettled(Exception):
    """The file changed while it was being hashed: the device is still writing."""


class Pacer:
    """Keeps the average send rate at or under `bytes_per_second` (0: no limit)."""

    def __init__(self, bytes_per_second: int, stop: threading.Event) -> None:
        self.rate = bytes_per_second
        self._stop = stop
        self._next = time.monotonic()

    def __call__(self, sent: int) -> None:
        if self.rate <= 0:
            return
        self._next = max(self._next, time.monotonic() - 1.0) + sent / self.rate
        delay = self._next - time.monotonic()
        if delay > 0:
            self._stop.wait(delay)


class Courier:
    def __init__(
        self,
        *,
        hub: HubClient,
        journal: Journal,
        reporter: Reporter,
        stop: threading.Event,
        wait_archived: bool = False,
        max_bytes_per_second: int = 0,
    ) -> None:
        self.hub = hub
        self.journal = journal
        self.reporter = reporter
        self.stop = stop
        self.wait_archived = wait_archived
        self.max_bytes_per_second = max_bytes_per_second

    def deliver(self, media: Path, *, context: dict[str, Any], station: str = "") -> Outcome:
        """Sends `media` unless its content was sent before; Stopped on shutdown."""
        before = media.stat()
        digest = file_sha256(media)
        if not unchanged_since(media, before.st_size, before.st_mtime_ns):
            raise NotSettled(media)
        size = before.st_size
        entry = self.journal.get(digest)
        if entry is not None and entry.state is SendState.CAPTURED and entry.capture_id:
            self.reporter.event(
                "duplicate", file=str(media), sha256=digest, capture_id=entry.capture_id
            )
            if self.wait_archived:
                # Perhaps the agent stopped while waiting: the wait is taken up again.
                waited = self._retrying(media, lambda: self._wait_archived(media, entry.capture_id))
                if waited.result is Result.FAILED:
                    return waited
            return Outcome(Result.DUPLICATE, capture_id=entry.capture_id)
        if entry is not None and entry.state is SendState.REFUSED:
            return Outcome(Result.FAILED, reason=entry.reason)
        metadata = {"filename": media.name, "context": json.dumps(context)}
        if station:
            metadata["station"] = station
        return self._retrying(
            media, lambda: self._attempt(media, digest=digest, size=size, metadata=metadata)
        )

    def _retrying(self, media: Path, attempt: Callable[[], Outcome]) -> Outcome:
        """Runs `attempt` until it gives an outcome: unbounded, with capped backoff."""
        failures = 0
        while True:
            try:
                return attempt()
            except HubUnavailable as error:
                failures += 1
                delay = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (failures - 1))
                if error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, RETRY_AFTER_MAX_SECONDS))
                self.reporter.event(
                    "retry",
                    level="warning",
                    file=str(media),
                    reason=str(error),
                    attempt=failures,
                    retry_in=delay,
                )
                if self.stop.wait(delay):
                    raise Stopped() from None

    def _attempt(self, media: Path, *, digest: str, size: int, metadata: dict[str, str]) -> Outcome:
        entry = self.journal.get(digest)
        url = entry.upload_url if entry is not None and entry.state is SendState.UPLOADING else None
        if url is None:
            try:
                url = self.hub.create_upload(media, metadata=metadata)
            except HubRefused as refused:
                # A wrong or unprivileged token is not the file's fault: it waits for an operator.
                if refused.credentials_at_fault:
                    raise HubUnavailable(refused.reason) from None
                # A refused context is not the content's fault: not journalled, so
                # the file dropped again with a corrected sidecar is sent.
                return Outcome(Result.FAILED, reason=refused.reason)
            self.journal.upload_started(sha256=digest, size=size, name=media.name, upload_url=url)
            self.reporter.event("upload_created", file=str(media), upload_url=url, bytes=size)
        else:
            self.reporter.event("upload_resumed", file=str(media), upload_url=url)
        try:
            sent = self.hub.send(
                media,
                url,
                should_stop=self.stop.is_set,
                progress=lambda done, total: self.reporter.progress(media.name, done, total),
                pace=Pacer(self.max_bytes_per_second, self.stop),
            )
        except UploadGone:
            self.reporter.event("upload_gone", level="warning", file=str(media), upload_url=url)
            self.journal.forget(digest)
            raise HubUnavailable("the hub no longer knows the upload; starting again") from None
        except HubRefused as refused:
            if refused.credentials_at_fault:
                raise HubUnavailable(refused.reason) from None
            self.journal.refused(sha256=digest, size=size, name=media.name, reason=refused.reason)
            return Outcome(Result.FAILED, reason=refused.reason)
        finally:
            self.reporter.progress_end(media.name)
        self.reporter.event(
            "uploaded", file=str(media), upload_url=url, bytes=sent.sent, size=sent.size
        )
        capture = self._wait_for_capture(url)
        self.journal.captured(sha256=digest, capture_id=capture["id"])
        sha_at_hub = (capture.get("original") or {}).get("sha256")
        if sha_at_hub and sha_at_hub != digest:
            self.reporter.event(
                "content_mismatch",
                level="error",
                file=str(media),
                capture_id=capture["id"],
                reason=f"the hub has sha256 {sha_at_hub}, the file hashed to {digest}",
            )
        self.reporter.event("captured", file=str(media), upload_url=url, capture_id=capture["id"])
        if self.wait_archived:
            return self._wait_archived(media, capture["id"])
        return Outcome(Result.DONE, capture_id=capture["id"])

    def _wait_for_capture(self, upload_url: str) -> dict[str, Any]:
        """The hub makes the capture with the last byte; this rarely waits at all."""
        while True:
            capture = self.hub.capture_for_upload(upload_url)
            if capture is not None:
                return capture
            if self.stop.wait(POLL_SECONDS):
                raise Stopped()

    def _wait_archived(self, media: Path, capture_id: str) -> Outcome:
        while True:
            capture = self.hub.capture(capture_id)
            status = capture.get("status")
            if status in SETTLED:
                break
            if self.stop.wait(POLL_SECONDS):
                raise Stopped()
        if status == "archived":
            self.reporter.event("archived", file=str(media), capture_id=capture_id)
            return Outcome(Result.DONE, capture_id=capture_id)
        reason = f"capture {capture_id} is {status}: {capture.get('reason') or 'no reason given'}"
        return Outcome(Result.FAILED, capture_id=capture_id, reason=reason)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while piece := source.read(HASH_PIECE):
            digest.update(piece)
    return digest.hexdigest()
