"""Durable local storage of originals and of the DICOM files made from them.

A file counts as stored only once its bytes and its directory entry are on
disk (fsync of both), so a power cut after `201 Created` loses nothing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    sha256: str
    size: int


def data_path(relative_path: str) -> Path:
    """The absolute path of a file kept below HUB_DATA_DIR."""
    path = (settings.HUB_DATA_DIR / relative_path).resolve()
    if not path.is_relative_to(settings.HUB_DATA_DIR):
        raise ValueError(f"{relative_path!r} is outside the hub's data directory")
    return path


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _originals_directory() -> Path:
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    directory = settings.HUB_DATA_DIR / "originals" / day
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def adopt_original(path: Path, *, sha256: str, size: int, suffix: str = "") -> StoredFile:
    """Moves a file already written below HUB_DATA_DIR into originals/YYYY/MM/DD/.

    No copy and no read: one fsync of the file, a rename, an fsync of both
    directories. `sha256` and `size` are the caller's, who wrote the bytes.
    On another filesystem (EXDEV) the file is copied as `store_original` does.
    """
    directory = _originals_directory()
    final = directory / f"{uuid.uuid4().hex}{suffix}"
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        path.replace(final)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        return store_original(_pieces(path), suffix=suffix)
    fsync_directory(directory)
    fsync_directory(path.parent)
    return StoredFile(
        relative_path=str(final.relative_to(settings.HUB_DATA_DIR)), sha256=sha256, size=size
    )


def _pieces(path: Path) -> Iterable[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


def store_original(chunks: Iterable[bytes], *, suffix: str = "") -> StoredFile:
    """Writes an upload below originals/YYYY/MM/DD/, hashing it on the way."""
    directory = _originals_directory()
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        final = directory / f"{uuid.uuid4().hex}{suffix}"
        Path(temp_name).replace(final)
        fsync_directory(directory)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return StoredFile(
        relative_path=str(final.relative_to(settings.HUB_DATA_DIR)),
        sha256=digest.hexdigest(),
        size=size,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def instance_directory(capture_id: uuid.UUID) -> Path:
    directory = settings.HUB_DATA_DIR / "dicom" / str(capture_id)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
