"""Phone-like 12 MP JPEGs of about 3.6 MB for the throughput benchmark.

tests/media.py's `make_jpeg` gives 1.9 MB at 12 MP (a smooth picture); a
phone photo of skin or a wound holds more detail. These add sensor-like noise
to the same picture and carry the same camera EXIF (GPS, serial numbers,
thumbnail), quality 92, 4:2:0. Two bases are made once: upright 4000x3000
and stored 4032x3024 with EXIF orientation 6 (whole MCUs, so jpegtran
rotates it losslessly). Each photo sent is a base with a COM segment naming
its number, so no two captures have the same bytes.
"""

from __future__ import annotations

import io
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.media import exif_block, picture

# Sensor-like noise (standard deviation, 8-bit levels): about 3.6 MB at quality 92.
NOISE = 6.5
QUALITY = 92


@dataclass(frozen=True)
class Photo:
    path: Path
    rotated: bool


def camera_jpeg(path: Path, *, width: int, height: int, orientation: int) -> Path:
    image = picture(width, height)
    pixels = np.asarray(image).astype(np.float32)
    pixels += np.random.default_rng(width * height).normal(0, NOISE, pixels.shape)
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    small = noisy.copy()
    small.thumbnail((160, 120))
    thumbnail = io.BytesIO()
    small.save(thumbnail, "JPEG", quality=75)
    out = io.BytesIO()
    noisy.save(
        out,
        "JPEG",
        quality=QUALITY,
        subsampling="4:2:0",
        exif=exif_block(
            orientation=orientation, gps=True, serial=True, thumbnail=thumbnail.getvalue()
        ),
    )
    path.write_bytes(out.getvalue())
    return path


def bases(folder: Path) -> tuple[Path, Path]:
    """The upright and the orientation-6 base photos, made once per folder."""
    upright = folder / "base_upright.jpg"
    rotated = folder / "base_rotated.jpg"
    if not upright.exists():
        camera_jpeg(upright, width=4000, height=3000, orientation=1)
    if not rotated.exists():
        camera_jpeg(rotated, width=4032, height=3024, orientation=6)
    return upright, rotated


def numbered(base: Path, target: Path, number: int) -> Path:
    """`base` with a comment segment after SOI naming `number`."""
    data = base.read_bytes()
    text = f"bench photo {number:06d}".encode()
    comment = b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text
    target.write_bytes(data[:2] + comment + data[2:])
    return target


def photo_set(folder: Path, count: int, *, first: int = 0) -> list[Photo]:
    """`count` distinct photos in `folder`, every other one with orientation 6."""
    upright, rotated = bases(folder)
    photos = []
    for number in range(first, first + count):
        turned = number % 2 == 1
        path = numbered(rotated if turned else upright, folder / f"photo_{number:06d}.jpg", number)
        photos.append(Photo(path=path, rotated=turned))
    return photos
