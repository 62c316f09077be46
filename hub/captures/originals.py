"""Keeping the original (scrubbed of private metadata) for delivery with XDS metadata.

Which captures keep it is the HUB_ORIGINALS policy, per specialty. The bytes
kept are exactly those delivered: the hash and size in the DocumentEntry are
computed from this file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings

from encapsulate import ORIGINAL_EXTENSIONS, MediaType, Specialty, write_scrubbed_original
from hub.captures.models import Capture, OriginalDocument
from hub.captures.storage import data_path, file_sha256, fsync_directory, instance_directory


def delivers(specialty: Specialty, what: str) -> bool:
    """Whether captures of `specialty` deliver `what` ("dicom" or "original")."""
    return what in settings.HUB_ORIGINALS_BY_SPECIALTY[specialty.value]


def _scrub_to(source: Path, directory: Path) -> tuple[MediaType, Path]:
    """Scrubs `source` into `directory` as original.<ext>, atomically; the type and path.

    Streamed to a temporary file (a video may be gigabytes), synced, then renamed.
    """
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    os.close(fd)
    try:
        media_type = write_scrubbed_original(source, Path(temp))
        with Path(temp).open("rb") as written:
            os.fsync(written.fileno())
        path = directory / f"original{ORIGINAL_EXTENSIONS[media_type]}"
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_directory(directory)
    return media_type, path


def original_keep(capture: Capture) -> OriginalDocument:
    """Scrubs the original and stores it beside the capture's DICOM files.

    Raises UnsupportedMediaError for a type whose metadata cannot be removed.
    """
    media_type, path = _scrub_to(data_path(capture.original_path), instance_directory(capture.id))
    document, _ = OriginalDocument.objects.update_or_create(
        capture=capture,
        defaults={
            "path": str(path.relative_to(settings.HUB_DATA_DIR)),
            "mime_type": media_type.value,
            "size": path.stat().st_size,
            "sha256": file_sha256(path),
        },
    )
    return document
