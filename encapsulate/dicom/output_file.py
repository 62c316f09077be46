"""Writing DICOM files so that a crash or an error never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydicom.dataset import Dataset


def write_atomically(dataset: Dataset, path: Path) -> Path:
    """Write ``dataset`` as a PS3.10 file at ``path``: temp file, fsync, rename.

    The temporary file lives in the same folder (so the rename is atomic on
    POSIX) and is removed if anything fails.
    """
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            dataset.save_as(stream, enforce_file_format=True)
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
    return path
