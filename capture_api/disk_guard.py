"""Refuse an upload before the disk fills: 507 while free space would drop below the reserve."""

from __future__ import annotations

import shutil

from django.conf import settings

from capture_api.errors import ApiProblem

# A full disk stops the database and the pipeline too: wait this long, then try again.
RETRY_AFTER_SECONDS = 300


def disk_room_require(*, incoming_bytes: int) -> None:
    """ApiProblem 507 `insufficient_storage` unless `incoming_bytes` fit above the reserve."""
    free = shutil.disk_usage(settings.HUB_DATA_DIR).free
    reserve = settings.HUB_MIN_FREE_BYTES
    if free - incoming_bytes < reserve:
        raise ApiProblem(
            "the hub is short of disk space and takes no upload now; try again later",
            status=507,
            code="insufficient_storage",
            retry_after=RETRY_AFTER_SECONDS,
        )
