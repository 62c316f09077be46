"""Checks shared by the tests of every DICOM-producing package."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tests.media import MAKERNOTE, PRIVATE_STRINGS


def dciodvfy_errors(path: Path) -> list[str]:
    """The ``Error -`` lines dicom3tools' dciodvfy reports for the file at ``path``."""
    done = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, errors="replace", check=False
    )
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if line.startswith("Error -")]


def psnr(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two 8-bit images of the same shape."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise AssertionError(f"shapes differ: {x.shape} vs {y.shape}")
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def upright(image: Image.Image) -> Image.Image:
    """``image`` with its EXIF orientation applied, as a viewer shows it."""
    return ImageOps.exif_transpose(image)


def assert_no_private_metadata(data: bytes) -> None:
    """No EXIF (with GPS, serials, maker note, thumbnail), XMP, IPTC or trailer image."""
    assert b"Exif\x00\x00" not in data, "an EXIF block is left"
    assert b"II*\x00\x08\x00\x00\x00" not in data, "a TIFF (EXIF) header is left"
    assert b"http://ns.adobe.com/xap" not in data, "an XMP packet is left"
    assert b"<x:xmpmeta" not in data, "an XMP packet is left"
    assert b"Photoshop 3.0" not in data, "an IPTC block is left"
    assert b"MPF\x00" not in data, "an MPF segment is left"
    assert MAKERNOTE[:16] not in data, "the maker note is left"
    for text in PRIVATE_STRINGS:
        assert text.encode() not in data, f"{text!r} is left"
    assert data.count(b"\xff\xd8\xff") <= 1, "a second image (thumbnail or trailer) is left"
