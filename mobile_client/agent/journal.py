"""What the agent has sent, keyed by content (sha256), kept across restarts and crashes.

SQLite in the state directory, `synchronous=FULL` in rollback-journal mode: a
change returns only once it is on disk, and a crash mid-change leaves the
previous state (SQLite's atomic commit). The upload URL is recorded right after
the hub creates the upload and before the first byte is sent, so a killed agent
resumes that upload from the hub's offset instead of starting another one; a
file whose content was sent before, under any name, is never sent again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

FILE_NAME = "journal.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    upload_url TEXT,
    capture_id TEXT,
    reason TEXT,
    updated_at REAL NOT NULL
)
"""


class SendState(StrEnum):
    UPLOADING = "uploading"  # the hub created the upload; bytes may be missing
    CAPTURED = "captured"  # the hub has the whole file as a capture
    REFUSED = "refused"  # the hub will never take this content; `reason` says why


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int
    name: str
    state: SendState
    upload_url: str | None
    capture_id: str | None
    reason: str | None


class Journal:
    """One agent's record; safe to share between its folder threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection, serialised by a lock: writes are few and small.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)

    @classmethod
    def in_directory(cls, state_dir: Path) -> Journal:
        return cls(state_dir / FILE_NAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, sha256: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, size, name, state, upload_url, capture_id, reason "
                "FROM sent WHERE sha256 = ?",
                (sha256,),
            ).fetchone()
        if row is None:
            return None
        return Entry(row[0], row[1], row[2], SendState(row[3]), row[4], row[5], row[6])

    def upload_started(self, *, sha256: str, size: int, name: str, upload_url: str) -> None:
        """Records (or replaces, when the hub forgot the old one) the content's upload URL."""
        self._write(
            "INSERT INTO sent (sha256, size, name, state, upload_url, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
            "state = excluded.state, upload_url = excluded.upload_url, "
            "name = excluded.name, updated_at = excluded.updated_at",
            (sha256, size, name, SendState.UPLOADING, upload_url, time.time()),
        )

    def captured(self, *, sha256: str, capture_id: str) -> None:
        self._write(
            "UPDATE sent SET state = ?, capture_id = ?, updated_at = ? WHERE sha256 = ?",
            (SendState.CAPTURED, capture_id, time.time(), sha256),
        )

    def refused(self, *, sha256: str, size: int, name: str, reason: str) -> None:
        self._write(
            "INSERT INTO sent (sha256, size, name, state, reason, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
            "state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at",
            (sha256, size, name, SendState.REFUSED, reason, time.time()),
        )

    def forget(self, sha256: str) -> None:
        """Drops an entry: the hub no longer knows its upload, so the content goes again."""
        self._write("DELETE FROM sent WHERE sha256 = ?", (sha256,))

    def _write(self, sql: str, parameters: tuple[object, ...]) -> None:
        # Autocommit: each statement is its own transaction, durable when execute returns.
        with self._lock:
            self._db.execute(sql, parameters)
