"""Watching export folders: watchdog events to react at once, a rescan because events get lost.

One worker thread per folder handles that folder's files one at a time, oldest
first: a tower exports one procedure after another, and one upload at a time
keeps the tower's link usable. Events only wake the worker; what to do is
always decided from a fresh listing of the folder, so a lost or duplicated
event (SMB and NFS shares lose them) changes nothing but latency.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from mobile_client.agent.completeness import CompletenessTracker
from mobile_client.agent.context_reading import (
    NO_PATIENT_CONTEXT,
    ContextRefused,
    SidecarMissing,
    read_context,
    sidecar_of,
)
from mobile_client.agent.courier import Courier, NotSettled, Result
from mobile_client.agent.filing import REASON_SUFFIX, file_done, file_failed
from mobile_client.agent.hub_client import HubRefused, Stopped
from mobile_client.agent.profiles import Profile
from mobile_client.agent.reporting import Reporter

DEFAULT_RESCAN_SECONDS = 30.0
# How often a folder is looked at while a file in it is still settling.
SETTLING_TICK_SECONDS = 0.5


class FolderWorker(threading.Thread):
    def __init__(
        self,
        folder: Path,
        *,
        profile: Profile,
        courier: Courier,
        reporter: Reporter,
        stop: threading.Event,
        rescan_seconds: float = DEFAULT_RESCAN_SECONDS,
    ) -> None:
        super().__init__(name=f"folder:{folder.name}", daemon=True)
        self.folder = folder
        self.profile = profile
        self.courier = courier
        self.reporter = reporter
        self.stop = stop
        self.rescan_seconds = rescan_seconds
        self.wake = threading.Event()
        self.tracker = CompletenessTracker(profile)
        # Media found whole but whose sidecar has not come: when it was first noticed.
        self._sidecar_since: dict[Path, float] = {}

    def run(self) -> None:
        self.reporter.event("watching", file=str(self.folder), profile=self.profile.name)
        while not self.stop.is_set():
            try:
                self.scan()
            except Exception as error:  # a bug or a share gone away must not end the watch
                self.reporter.event(
                    "scan_failed", level="error", file=str(self.folder), reason=repr(error)
                )
            settling = self.tracker.waiting() or bool(self._sidecar_since)
            tick = min(SETTLING_TICK_SECONDS, max(0.05, self.profile.quiet_seconds / 4))
            self.wake.wait(tick if settling else self.rescan_seconds)
            self.wake.clear()

    def candidates(self) -> list[Path]:
        """Media files of the profile's patterns in the folder (not its done/ and failed/)."""
        found = []
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return []
        for path in entries:
            name = path.name.lower()
            if name.startswith(".") or name.endswith(REASON_SUFFIX):
                continue
            if not any(fnmatch.fnmatchcase(name, p.lower()) for p in self.profile.patterns):
                continue
            if path.is_file():
                found.append(path)
        return sorted(found, key=_mtime)

    def scan(self) -> None:
        candidates = self.candidates()
        self.tracker.prune(set(candidates))
        for path in list(self._sidecar_since):
            if path not in candidates:
                del self._sidecar_since[path]
        for media in candidates:
            if self.stop.is_set():
                return
            if self.tracker.is_complete(media):
                self.handle(media, candidates)

    def handle(self, media: Path, candidates: Sequence[Path]) -> None:
        marker = self.profile.marker_for(media)
        siblings = any(o != media and o.stem == media.stem for o in candidates)
        try:
            found = read_context(media, self.profile)
        except SidecarMissing as missing:
            self._sidecar_missing(media, missing, marker, siblings)
            return
        except ContextRefused as refused:
            sidecar = sidecar_of(media, self.profile)
            self._fail(media, _existing(marker, sidecar), refused.reason, siblings)
            return
        self._sidecar_since.pop(media, None)
        companions = (*found.companions, *_existing(marker))
        try:
            outcome = self.courier.deliver(
                media, context=found.context, station=self.profile.station
            )
        except NotSettled:
            self.tracker.forget(media)
            return
        except Stopped:
            self.reporter.event("stopped", file=str(media))
            return
        except (HubRefused, OSError) as error:
            self.reporter.event("deliver_failed", level="error", file=str(media), reason=str(error))
            self.tracker.forget(media)  # another quiet period before the next try
            return
        self.tracker.forget(media)
        if outcome.result is Result.FAILED:
            self._fail(media, companions, outcome.reason or "refused", siblings, outcome.capture_id)
            return
        target = file_done(media, companions, siblings_pending=siblings)
        self.reporter.event(
            "filed_done", file=str(target), capture_id=outcome.capture_id, result=outcome.result
        )

    def _sidecar_missing(
        self, media: Path, missing: SidecarMissing, marker: Path | None, siblings: bool
    ) -> None:
        first = self._sidecar_since.setdefault(media, time.monotonic())
        if time.monotonic() - first < self.profile.sidecar_wait_seconds:
            return
        del self._sidecar_since[media]
        reason = f"{NO_PATIENT_CONTEXT}: {missing}"
        self._fail(media, _existing(marker), reason, siblings)

    def _fail(
        self,
        media: Path,
        companions: Sequence[Path],
        reason: str,
        siblings: bool,
        capture_id: str | None = None,
    ) -> None:
        self.tracker.forget(media)
        target = file_failed(media, companions, reason, siblings_pending=siblings)
        self.reporter.event(
            "filed_failed", level="warning", file=str(target), reason=reason, capture_id=capture_id
        )


class _Wake(FileSystemEventHandler):
    def __init__(self, worker: FolderWorker) -> None:
        self.worker = worker

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.worker.wake.set()


def watch(workers: Sequence[FolderWorker], stop: threading.Event) -> None:
    """Runs the workers and an observer until `stop` is set; returns once all have stopped.

    A worker in the middle of an upload finishes its current chunk first (the
    hub keeps it) and stops before the next.
    """
    observer = Observer()
    for worker in workers:
        observer.schedule(_Wake(worker), str(worker.folder), recursive=False)
    observer.start()
    for worker in workers:
        worker.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for worker in workers:
            worker.wake.set()
        for worker in workers:
            worker.join()
        observer.stop()
        observer.join(timeout=5)


def _existing(*paths: Path | None) -> tuple[Path, ...]:
    return tuple(p for p in paths if p is not None and p.exists())


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
