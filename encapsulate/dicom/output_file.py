"""Writing DICOM files so that a crash or an error never leaves half a file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset


@dataclass(frozen=True)
class WrittenFile:
    """A file `write_atomically` wrote, and the sha256 of its bytes, taken as
    they were written (no second pass over a video's gigabytes); None in the
    unexpected case that the writer went back and overwrote some."""

    path: Path
    sha256: str | None


class _HashingWriter:
    """Hands writes through to `stream`, hashing them in file order.

    pydicom patches lengths by seeking back only inside its own buffers (each
    element is encoded in memory first), so the file is written front to
    back; should a write ever land before the end, the digest is dropped.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash: hashlib._Hash | None = hashlib.sha256()
        self._position = 0
        self._end = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        written = self._stream.write(data)
        if self._hash is not None and self._position == self._end:
            self._hash.update(memoryview(data)[:written])
        elif self._position < self._end:
            self._hash = None
        self._position += written
        self._end = max(self._end, self._position)
        return written

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._position = self._stream.seek(offset, whence)
        return self._position

    def flush(self) -> None:
        self._stream.flush()

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None


def write_atomically(dataset: Dataset, path: Path) -> WrittenFile:
    """Write ``dataset`` as a PS3.10 file at ``path``: temp file, fsync, rename.

    The temporary file lives in the same folder (so the rename is atomic on
    POSIX) and is removed if anything fails.
    """
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            hashing = _HashingWriter(stream)
            dataset.save_as(hashing, enforce_file_format=True)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    # Make the rename itself durable.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return WrittenFile(path, hashing.hexdigest())
