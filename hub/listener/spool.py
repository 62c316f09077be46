"""Where pynetdicom writes a C-STORE's data set as it arrives, below HUB_DATA_DIR.

On the data directory's own filesystem, a received file becomes a capture's
original by a rename. A file left here was cut short by a crash and never
answered Success (the device sends it again): the listener removes such
files older than HUB_ORPHAN_AGE_SECONDS when it starts.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)


def spool_directory() -> Path:
    directory = Path(settings.HUB_DATA_DIR) / "dimse-spool"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def spool_leftovers_remove() -> list[Path]:
    """Removes what a crashed listener left in the spool; the files removed."""
    cutoff = time.time() - settings.HUB_ORPHAN_AGE_SECONDS
    spool = spool_directory()
    removed = []
    for path in spool.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning("removed %d unanswered C-STORE data sets from %s", len(removed), spool)
    return removed
