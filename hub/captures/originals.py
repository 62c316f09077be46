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

from encapsulate import Specialty
from encapsulate.xds_original import EXTENSIONS, scrubbed_original
from hub.captures.models import Capture, OriginalDocument
from hub.captures.storage import data_path, file_sha256, fsync_directory, instance_directory


def delivers(specialty: Specialty, what: str) -> bool:
    """Whether captures of `specialty` deliver `what` ("dicom" or "original")."""
    return what in settings.HUB_ORIGINALS_BY_SPECIALTY[specialty.value]


def _write(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def original_keep(capture: Capture) -> OriginalDocument:
    """Scrubs the original and stores it beside the capture's DICOM files.

    Raises UnsupportedMediaError for a type whose metadata cannot be removed.
    """
    media_type, data = scrubbed_original(data_path(capture.original_path))
    path = instance_directory(capture.id) / f"original{EXTENSIONS[media_type]}"
    _write(path, data)
    document, _ = OriginalDocument.objects.update_or_create(
        capture=capture,
        defaults={
            "path": str(path.relative_to(settings.HUB_DATA_DIR)),
            "mime_type": media_type.value,
            "size": len(data),
            "sha256": file_sha256(path),
        },
    )
    return document
