"""What a crashed listener left in its spool goes when the listener starts again."""

from __future__ import annotations

import os
import time

from hub.listener.spool import spool_directory, spool_leftovers_remove


def test_only_spool_files_older_than_the_orphan_age_are_removed(settings) -> None:
    settings.HUB_ORPHAN_AGE_SECONDS = 3600
    old, fresh = spool_directory() / "tmpold.dcm", spool_directory() / "tmpfresh.dcm"
    old.write_bytes(b"cut short")
    fresh.write_bytes(b"in flight")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    removed = spool_leftovers_remove()

    assert removed == [old]
    assert not old.exists() and fresh.exists()
