"""Originals no capture references are removed after an hour, and every removal recorded."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from hub.audit.models import AuditEvent
from hub.captures.orphans import (
    LEDGER,
    leftovers_orphans_remove,
    originals_orphans_remove,
    orphans_remove,
)
from hub.captures.retention import QUARANTINE, capture_delete
from hub.captures.storage import data_path
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate, capture_inspect
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


def _encapsulated(tmp_path: Path, patient_id: str):
    capture = received_capture(tmp_path / patient_id, patient_id=patient_id)
    capture_inspect(capture_id=capture.id)
    capture_match(capture_id=capture.id)
    capture_encapsulate(capture_id=capture.id)
    return capture


def test_a_dicom_folder_written_after_its_capture_was_purged_goes_after_the_grace_period(
    tmp_path: Path, private_data_dir: Path, django_capture_on_commit_callbacks
) -> None:
    live = _encapsulated(tmp_path, "MRN-LIVE")
    live_folder = private_data_dir / "dicom" / str(live.id)
    live_files = sorted(live_folder.iterdir())
    assert live_files
    for path in (live_folder, *live_files):
        _aged(path, 7200)
    gone = _encapsulated(tmp_path, "MRN-GONE")
    with django_capture_on_commit_callbacks(execute=True):
        capture_delete(capture_id=gone.id)
    folder = private_data_dir / "dicom" / str(gone.id)
    assert not folder.exists()
    # The step that was still running on it writes its instance after the purge.
    folder.mkdir()
    late = folder / "1.2.3.dcm"
    late.write_bytes(b"late")
    not_a_capture = private_data_dir / "dicom" / "not-a-capture-id"
    not_a_capture.mkdir()
    _aged(not_a_capture, 7200)

    assert leftovers_orphans_remove(older_than_seconds=3600) == []
    assert late.exists()

    _aged(late, 7200)
    _aged(folder, 7200)
    removed = leftovers_orphans_remove(older_than_seconds=3600)

    assert removed == [f"dicom/{gone.id}"]
    assert not folder.exists()
    assert sorted(live_folder.iterdir()) == live_files
    assert not_a_capture.exists()
    ledger = [json.loads(line) for line in (private_data_dir / LEDGER).read_text().splitlines()]
    assert [(e["action"], e["capture"], e["files"]) for e in ledger] == [
        (
            "orphan-capture-files-removed",
            str(gone.id),
            [{"path": f"dicom/{gone.id}/1.2.3.dcm", "bytes": 4}],
        )
    ]
    event = AuditEvent.objects.get(capture_id=gone.id, entity=f"orphan:dicom/{gone.id}")
    assert (event.action, event.patient, event.actor_id) == ("capture.purge", "MRN-GONE", None)


def test_a_quarantined_original_stays_while_its_capture_lives_though_no_row_names_it_yet(
    tmp_path: Path, private_data_dir: Path
) -> None:
    # The quarantine move renames the file first; until the row follows, no row names it.
    capture = received_capture(tmp_path)
    quarantine = private_data_dir / QUARANTINE
    quarantine.mkdir()
    moved = quarantine / f"{capture.id}.jpg"
    moved.write_bytes(b"the only copy")
    nobodys = quarantine / f"{uuid.uuid4()}.jpg"
    nobodys.write_bytes(b"x")
    for path in (moved, nobodys):
        _aged(path, 7200)

    removed = orphans_remove()

    assert removed == [str(nobodys.relative_to(private_data_dir))]
    assert moved.exists() and not nobodys.exists()
