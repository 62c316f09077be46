"""Originals no capture references are removed after an hour, and every removal recorded."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from hub.captures.orphans import LEDGER, originals_orphans_remove
from hub.captures.storage import data_path
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def _aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_an_old_unreferenced_original_is_removed_and_recorded_and_the_rest_kept(
    tmp_path: Path, private_data_dir: Path
) -> None:
    kept = received_capture(tmp_path)
    referenced = _aged(data_path(kept.original_path), 7200)
    day = referenced.parent
    orphan = day / "0123abcd.jpg"  # its capture's row was never committed
    orphan.write_bytes(b"x")
    _aged(orphan, 7200)
    half_written = day / ".incoming-zz"
    half_written.write_bytes(b"partial")
    _aged(half_written, 7200)
    young = day / "fresh.jpg"
    young.write_bytes(b"y")

    removed = originals_orphans_remove(older_than_seconds=3600)

    assert sorted(removed) == sorted(
        str(p.relative_to(private_data_dir)) for p in (orphan, half_written)
    )
    assert referenced.exists() and young.exists()
    assert not orphan.exists() and not half_written.exists()
    ledger = [json.loads(line) for line in (private_data_dir / LEDGER).read_text().splitlines()]
    assert {entry["path"] for entry in ledger} == set(removed)
    assert all(entry["sha256"] and entry["action"] == "orphan-original-removed" for entry in ledger)
