"""Files no capture reaches, removed once older than HUB_ORPHAN_AGE_SECONDS -
long after any upload in flight has committed its row - and every removal
recorded: in the log, and as one JSON line in `orphans-removed.jsonl` below
HUB_DATA_DIR.

- Originals in originals/ no capture references: what a crash between the
  file's fsync and the row's commit leaves (and `.incoming-` files of an
  upload cut short).
- `dicom/ID/` folders and `quarantine/ID.ext` files whose capture is gone:
  what a step still running when its capture was deleted or purged writes
  after the purge removed its files (or a quarantine move racing a purge).
  They name their capture, so each removal is also on the capture's audit
  trail (`capture.purge`, entity `orphan:PATH`). Quarantine is judged by the
  capture's existence, not by `original_path`: the move renames the file
  before the row follows, and a rejected original is the only copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from django.conf import settings

from hub.audit.services import audit_record
from hub.captures.models import Capture, CapturePurge
from hub.captures.retention import QUARANTINE
from hub.captures.storage import file_sha256

log = logging.getLogger(__name__)

LEDGER = "orphans-removed.jsonl"
BATCH = 500
ORIGINALS_ROOT = "originals"
# Named by their capture's id: `dicom/ID/`, `quarantine/ID.ext`.
INSTANCES_ROOT = "dicom"


def _old_files(root: Path, cutoff: float) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime < cutoff]


def originals_orphans_remove(*, older_than_seconds: float | None = None) -> list[str]:
    """Removes unreferenced files below originals/ older than the age; their paths."""
    age = settings.HUB_ORPHAN_AGE_SECONDS if older_than_seconds is None else older_than_seconds
    data_dir = Path(settings.HUB_DATA_DIR)
    removed: list[str] = []
    old = _old_files(data_dir / ORIGINALS_ROOT, time.time() - age)
    for batch in (old[i : i + BATCH] for i in range(0, len(old), BATCH)):
        relative = {str(path.relative_to(data_dir)): path for path in batch}
        referenced = set(
            Capture.objects.filter(original_path__in=list(relative)).values_list(
                "original_path", flat=True
            )
        )
        for name, path in relative.items():
            if name in referenced:
                continue
            entry = {
                "at": datetime.now(UTC).isoformat(),
                "action": "orphan-original-removed",
                "path": name,
                "size": path.stat().st_size,
                "sha256": file_sha256(path),
                "modified": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
            }
            _ledger_append(entry)
            path.unlink(missing_ok=True)
            log.warning("removed an original no capture references: %s", json.dumps(entry))
            removed.append(name)
    return removed


def leftovers_orphans_remove(*, older_than_seconds: float | None = None) -> list[str]:
    """Removes what is named by a capture that no longer exists, untouched for the age:
    `dicom/ID/` folders and `quarantine/ID.ext` files; their paths.

    A live capture's are never touched, nor those of a purge still under way
    (the purge removes them), nor anything not named by a capture id.
    """
    age = settings.HUB_ORPHAN_AGE_SECONDS if older_than_seconds is None else older_than_seconds
    data_dir = Path(settings.HUB_DATA_DIR)
    cutoff = time.time() - age
    named: list[tuple[UUID, Path]] = []
    for root, name_of in ((INSTANCES_ROOT, _name), (QUARANTINE, _stem)):
        if (data_dir / root).is_dir():
            for path in (data_dir / root).iterdir():
                with contextlib.suppress(ValueError):
                    named.append((UUID(name_of(path)), path))
    removed: list[str] = []
    for batch in (named[i : i + BATCH] for i in range(0, len(named), BATCH)):
        ids = {capture_id for capture_id, _ in batch}
        alive = set(Capture.objects.filter(pk__in=ids).values_list("pk", flat=True))
        purging = set(
            CapturePurge.objects.filter(capture_id__in=ids, done_at=None).values_list(
                "capture_id", flat=True
            )
        )
        for capture_id, path in batch:
            if capture_id in alive or capture_id in purging or not path.exists():
                continue
            contents = [path, *path.rglob("*")] if path.is_dir() else [path]
            if _newest(contents) >= cutoff:
                continue  # a step may still be writing into it
            removed.append(_leftover_remove(capture_id, path, contents))
    return removed


def orphans_remove() -> list[str]:
    """One sweep of everything no capture reaches; the paths removed."""
    return originals_orphans_remove() + leftovers_orphans_remove()


def _newest(contents: list[Path]) -> float:
    """The latest change among them; now if one vanished meanwhile (a writer renamed it)."""
    try:
        return max(p.stat().st_mtime for p in contents)
    except FileNotFoundError:
        return time.time()


def _name(path: Path) -> str:
    return path.name if path.is_dir() else ""


def _stem(path: Path) -> str:
    return path.name.partition(".")[0] if path.is_file() else ""


def _leftover_remove(capture_id: UUID, path: Path, contents: list[Path]) -> str:
    data_dir = Path(settings.HUB_DATA_DIR)
    name = str(path.relative_to(data_dir))
    files = [
        {"path": str(p.relative_to(data_dir)), "bytes": p.stat().st_size}
        for p in contents
        if p.is_file()
    ]
    modified = _newest(contents)
    _ledger_append(
        {
            "at": datetime.now(UTC).isoformat(),
            "action": "orphan-capture-files-removed",
            "path": name,
            "capture": str(capture_id),
            "files": files,
            "modified": datetime.fromtimestamp(modified, UTC).isoformat(),
        }
    )
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    purge = CapturePurge.objects.filter(capture_id=capture_id).order_by("-id").first()
    audit_record(
        action="capture.purge",
        capture_id=capture_id,
        patient=purge.patient if purge is not None else "",
        entity=f"orphan:{name}",
        before=files,
        note="files left after the capture was deleted or purged",
    )
    log.warning("removed files of a capture that no longer exists: %s", name)
    return name


def _ledger_append(entry: dict[str, object]) -> None:
    with (Path(settings.HUB_DATA_DIR) / LEDGER).open("a") as ledger:
        ledger.write(json.dumps(entry) + "\n")
