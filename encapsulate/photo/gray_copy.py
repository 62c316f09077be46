"""A photo file's upright grey copy, decoded reduced, and kept for the one step that asks next.

A wound photo is decoded reduced at inspection (the face preview) and again
at measurement (the marker search, ``measure.photo_measure.read_search_copy``);
entropy decoding, which no DCT scale skips, is most of either. Inspection of a
photo that is measured next in the same process decodes the search copy once
(``keep=True``), derives the face preview from it, and leaves it here for the
measurement to take.

One copy is kept per process (a 12 MP photo at 1/2 is 3 MB), let go when it
is taken or when another file is asked for. It is keyed by the file's
identity (resolved path, device, inode, size, modification time), so a file
replaced or rewritten in place is decoded again, never answered stale.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import ExifTags, Image

# What ImageOps.exif_transpose does for each EXIF Orientation (TIFF 6.0, tag 274).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class GrayCopy:
    """A photo as displayed (EXIF orientation applied), 8-bit grey, reduced
    ``reduction`` times; ``full_size`` is its displayed (width, height) at full
    resolution. ``pixels`` is read-only: the copy may be shared by two steps."""

    pixels: np.ndarray
    full_size: tuple[int, int]
    reduction: int


@dataclass(frozen=True)
class _FileKey:
    path: str
    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path, stat: os.stat_result) -> _FileKey:
        return cls(str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


_lock = threading.Lock()
_kept: tuple[_FileKey, GrayCopy] | None = None


def register_heif() -> None:
    """Lets Pillow open HEIC; pillow-heif hands it over already turned, its
    Orientation reset to 1."""
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - the hub installs it
        return
    pillow_heif.register_heif_opener()


def gray_copy(path: Path, *, reduction: int, keep: bool = False) -> GrayCopy:
    """``path`` upright, grey and reduced ``reduction`` times.

    A JPEG is decoded reduced in the DCT domain (``Image.draft``: luma only),
    other formats whole and then reduced; either way a pixel is about the mean
    of a square of full-resolution pixels. The copy an earlier ``keep=True``
    call left for this same file and reduction is returned without decoding,
    and let go unless ``keep`` again; any other call lets it go too. Raises
    what Pillow raises for a file it cannot read (``OSError``, ``ValueError``).
    """
    global _kept
    resolved = Path(path).resolve()
    with _lock:
        kept, _kept = _kept, None
    if kept is not None:
        key, copy = kept
        try:
            same = key == _FileKey.of(resolved, resolved.stat()) and copy.reduction == reduction
        except OSError:
            same = False
        if same:
            if keep:
                _remember(key, copy)
            return copy
    with resolved.open("rb") as file:
        key = _FileKey.of(resolved, os.fstat(file.fileno()))
        copy = _decoded(file, reduction)
    if keep:
        _remember(key, copy)
    return copy


def _remember(key: _FileKey, copy: GrayCopy) -> None:
    global _kept
    with _lock:
        _kept = (key, copy)


def _decoded(file: BinaryIO, reduction: int) -> GrayCopy:
    register_heif()
    with Image.open(file) as opened:
        width, height = opened.size
        orientation = opened.getexif().get(ExifTags.Base.Orientation, 1)
        opened.draft("L", (max(1, width // reduction), max(1, height // reduction)))
        gray = opened.convert("L")
    if gray.size[0] > -(-width // reduction):
        gray = gray.reduce(reduction)
    turn = _TRANSPOSE.get(orientation)
    if turn is not None:
        gray = gray.transpose(turn)
    full = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    pixels = np.asarray(gray)
    pixels.flags.writeable = False
    return GrayCopy(pixels=pixels, full_size=full, reduction=reduction)
