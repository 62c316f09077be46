"""Pixel Data for video, streamed from disk at write time.

PS3.5 8.2.5-8.2.11: the whole MPEG-2 / MP4 / transport stream file is the
value of one fragment (Basic Offset Table empty). pydicom's
``encapsulate_buffer`` reads the file in chunks while the dataset is written,
so memory stays flat whatever the size. A file longer than one fragment
(2^32 - 2 bytes, PS3.5 A.4) is cut into fragments of a fragmentable transfer
syntax (the ``.1`` twins, PS3.5 8.2.5-8.2.8), each a window on the same file.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from pydicom import config
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate_buffer

from encapsulate.dicom.output_file import WrittenFile, write_atomically

COPY_CHUNK = 4 * 1024 * 1024


class FileWindow(io.BufferedIOBase):
    """A read-only, seekable view of ``length`` bytes of ``stream`` from ``start``."""

    def __init__(self, stream: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._stream, self._start, self._length, self._position = stream, start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        left = max(0, self._length - self._position)
        count = left if size is None or size < 0 else min(size, left)
        if count == 0:
            return b""
        self._stream.seek(self._start + self._position)
        data = self._stream.read(count)
        self._position += len(data)
        return data


def fragment_windows(stream: BinaryIO, size: int, fragment_limit: int) -> list[FileWindow]:
    """Windows of at most ``fragment_limit`` bytes (an even number) covering ``size`` bytes."""
    step = fragment_limit - fragment_limit % 2  # every fragment but the last stays even
    return [FileWindow(stream, start, min(step, size - start)) for start in range(0, size, step)]


def write_video_instance(
    dataset: Dataset, stream_path: Path, target: Path, *, fragment_limit: int
) -> WrittenFile:
    """Write ``dataset`` with the file at ``stream_path`` as its Pixel Data, atomically.

    One fragment when the file fits in one, else fragments of at most
    ``fragment_limit`` bytes (the caller chose a fragmentable syntax).
    """
    size = stream_path.stat().st_size
    with stream_path.open("rb") as stream:
        if size <= fragment_limit:
            buffers: list[io.BufferedIOBase] = [stream]  # type: ignore[list-item]
        else:
            buffers = list(fragment_windows(stream, size, fragment_limit))
        dataset.PixelData = encapsulate_buffer(buffers, has_bot=False)
        dataset["PixelData"].VR = "OB"
        dataset["PixelData"].is_undefined_length = True
        # pydicom copies buffered values in chunks of this size (8 KiB by
        # default, which makes a 1 GB write CPU-bound); 4 MiB keeps memory
        # flat and the copy I/O-bound.
        chunk = config.settings.buffered_read_size
        config.settings.buffered_read_size = COPY_CHUNK
        try:
            return write_atomically(dataset, target)
        finally:
            config.settings.buffered_read_size = chunk
            # The buffers close with the file; the dataset must not keep them.
            del dataset.PixelData
