"""The content journal: dedupe by sha256, resume URLs that outlive the process, atomic changes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mobile_client.agent.journal import Journal, SendState

ROOT = Path(__file__).resolve().parents[3]
SHA = "a" * 64


def test_an_upload_url_then_the_capture_are_kept_per_content(tmp_path: Path) -> None:
    journal = Journal.in_directory(tmp_path)
    assert journal.get(SHA) is None

    journal.upload_started(sha256=SHA, size=10, name="clip.mpg", upload_url="http://hub/u/1")
    entry = journal.get(SHA)
    assert entry is not None
    assert (entry.state, entry.upload_url, entry.name) == (
        SendState.UPLOADING,
        "http://hub/u/1",
        "clip.mpg",
    )

    journal.captured(sha256=SHA, capture_id="cap-1")
    journal.close()
    reopened = Journal.in_directory(tmp_path)
    entry = reopened.get(SHA)
    assert entry is not None
    assert (entry.state, entry.capture_id, entry.upload_url) == (
        SendState.CAPTURED,
        "cap-1",
        "http://hub/u/1",
    )


def test_a_forgotten_upload_is_replaced_and_refusals_remembered(tmp_path: Path) -> None:
    journal = Journal.in_directory(tmp_path)
    journal.upload_started(sha256=SHA, size=10, name="a.mpg", upload_url="http://hub/u/1")
    journal.upload_started(sha256=SHA, size=10, name="b.mpg", upload_url="http://hub/u/2")
    assert journal.get(SHA).upload_url == "http://hub/u/2"  # type: ignore[union-attr]

    journal.refused(sha256=SHA, size=10, name="b.mpg", reason="HTTP 415: file: not media")
    entry = journal.get(SHA)
    assert entry is not None
    assert (entry.state, entry.reason) == (SendState.REFUSED, "HTTP 415: file: not media")

    journal.forget(SHA)
    assert journal.get(SHA) is None


WRITER = """
import os, sys
from pathlib import Path
from mobile_client.agent.journal import Journal
journal = Journal.in_directory(Path(sys.argv[1]))
journal.upload_started(sha256="a" * 64, size=1, name="first", upload_url="http://hub/u/first")
print("recorded", flush=True)
i = 0
while True:  # keeps writing until killed
    i += 1
    journal.upload_started(sha256=f"{i:064x}", size=i, name="n", upload_url=f"http://hub/u/{i}")
    journal.captured(sha256=f"{i:064x}", capture_id=f"c{i}")
"""


def test_a_killed_writer_leaves_a_whole_journal_with_what_it_recorded(tmp_path: Path) -> None:
    """SIGKILL mid-write: every change that returned is there, none is half there."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "recorded"
    # Let it write a while, then kill it with no chance to close anything.
    try:
        writer.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        writer.send_signal(signal.SIGKILL)
        writer.wait()

    journal = Journal.in_directory(tmp_path)
    first = journal.get(SHA)
    assert first is not None
    assert first.upload_url == "http://hub/u/first"
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT COUNT(*) FROM sent").fetchone()[0]
    assert rows > 10
    # Captured rows carry their capture; at most the last one is still uploading.
    uploading = db.execute("SELECT COUNT(*) FROM sent WHERE state = 'uploading'").fetchone()[0]
    assert uploading <= 2  # "first", and perhaps the one it was writing when killed


def test_the_journal_is_durable_by_configuration(tmp_path: Path) -> None:
    journal = Journal.in_directory(tmp_path)
    assert journal._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert journal._db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.parametrize("state", list(SendState))
def test_every_state_reads_back(tmp_path: Path, state: SendState) -> None:
    journal = Journal.in_directory(tmp_path)
    journal.upload_started(sha256=SHA, size=1, name="x", upload_url="u")
    if state is SendState.CAPTURED:
        journal.captured(sha256=SHA, capture_id="c")
    elif state is SendState.REFUSED:
        journal.refused(sha256=SHA, size=1, name="x", reason="r")
    assert journal.get(SHA).state is state  # type: ignore[union-attr]
