"""Originals no capture reaches: what a crash between the file's fsync and the
row's commit leaves in originals/ (and `.incoming-` files of an upload cut short).

They are removed once older than HUB_ORPHAN_AGE_SECONDS - long after any
upload in flight has committed its row - and every removal is recorded: in
the log, and as one JSON line in `orphans-removed.jsonl` below HUB_DATA_DIR
(the audit trail's events each belong to a capture, and these have none).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from hub.captures.models import Capture
from hub.captures.storage import file_sha256

log = logging.getLogger(__name__)

LEDGER = "orphans-removed.jsonl"
BATCH = 500


def _old_files(root: Path, cutoff: float) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime < cutoff]


def originals_orphans_remove(*, older_than_seconds: float | None = None) -> list[str]:
    """Removes unreferenced files below originals/ older than the age; their paths."""
    age = settings.HUB_ORPHAN_AGE_SECONDS if older_than_seconds is None else older_than_seconds
    data_dir = Path(settings.HUB_DATA_DIR)
    removed: list[str] = []
    old = _old_files(data_dir / "originals", time.time() - age)
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
            with (data_dir / LEDGER).open("a") as ledger:
                ledger.write(json.dumps(entry) + "\n")
            path.unlink(missing_ok=True)
            log.warning("removed an original no capture references: %s", json.dumps(entry))
            removed.append(name)
    return removed
