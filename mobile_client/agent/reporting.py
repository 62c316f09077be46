"""What the agent tells: JSON lines for the device's log collector, a progress bar for a person.

Each JSON line has `ts`, `level`, `event` and, where they apply, `file`,
`bytes`, `upload_url`, `capture_id`, `reason` (and a few more named in
docs/device-agent.md). The progress bar (rich) is shown only when standard
output is a terminal, so a service's log never fills with bar redraws.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Reporter:
    """Thread-safe: every folder's worker reports through the same one."""

    def __init__(self, log: IO[str] | None = None, *, show_progress: bool | None = None) -> None:
        self._log = log if log is not None else sys.stderr
        self._lock = threading.Lock()
        if show_progress is None:
            show_progress = sys.stdout.isatty()
        self._progress: Progress | None = None
        if show_progress:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=sys.stdout),
                transient=True,
            )
        self._tasks: dict[str, TaskID] = {}

    def event(self, event: str, *, level: str = "info", **fields: Any) -> None:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            **{k: v for k, v in fields.items() if v is not None},
        }
        line = json.dumps(record, ensure_ascii=False, default=str)
        with self._lock:
            self._log.write(line + "\n")
            self._log.flush()
        if self._progress is not None and level in ("warning", "error"):
            self._progress.console.print(f"[{level}] {event} {fields.get('file', '')}")

    def progress(self, name: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            task = self._tasks.get(name)
            if task is None:
                if not self._tasks:
                    # Shown only while something is sent: an idle bar would redraw forever.
                    self._progress.start()
                task = self._tasks[name] = self._progress.add_task(name, total=total)
            self._progress.update(task, completed=done, total=total)

    def progress_end(self, name: str) -> None:
        if self._progress is None:
            return
        with self._lock:
            task = self._tasks.pop(name, None)
            if task is not None:
                self._progress.remove_task(task)
                if not self._tasks:
                    self._progress.stop()

    def close(self) -> None:
        if self._progress is not None and self._tasks:
            self._progress.stop()
        if self._log not in (sys.stderr, sys.stdout):
            self._log.close()
