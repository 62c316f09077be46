"""A YBR_FULL_422 label is true for every JPEG the hub makes (PS3.5 8.2.1, PS3.3
C.7.6.3.1.2): the hub never writes a 4:4:4 JPEG of its own; a camera's 4:4:4
stream is kept byte for byte; the quality floor (45 dB) holds on every path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pillow_heif
import pydicom
import pytest
from PIL import Image, ImageOps
from pydicom.encaps import generate_frames

from encapsulate import InstanceIdentity, parse_context, wrap
from encapsulate.photo.jpeg_markers import parse_jpeg
from tests.dicom_checks import assert_dciodvfy_clean, psnr
from tests.media import make_jpeg
from tests.media_photos import make_cmyk_jpeg, make_heic, make_webp

BASELINE = "1.2.840.10008.1.2.4.50"
CONTEXT = {"patient": {"id": "M1"}, "specialty": "wound", "captured_at": "2026-11-28T10:15:00Z"}

# What the hub decodes and stores again; each name is the file's own extension.
HUB_MADE: dict[str, Callable[[Path], Path]] = {
    "ragged-444-rotated.jpg": lambda p: make_jpeg(
        p, width=333, height=251, orientation=6, subsampling="4:4:4"
    ),
    "ragged-420-rotated.jpg": lambda p: make_jpeg(p, width=333, height=251, orientation=3),
    "cmyk.jpg": make_cmyk_jpeg,
    "heic.heic": make_heic,
    "lossy.webp": lambda p: make_webp(p, lossless=False),
}


def _wrapped(source: Path, tmp_path: Path) -> pydicom.Dataset:
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(
        source, context=parse_context(CONTEXT), identity=InstanceIdentity.mint(), out_dir=out
    )
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path)


def _reference(source: Path) -> np.ndarray:
    pillow_heif.register_heif_opener()
    return np.asarray(ImageOps.exif_transpose(Image.open(source)).convert("RGB"))


@pytest.mark.parametrize("name", HUB_MADE)
def test_hub_made_pixels_have_a_true_label(tmp_path: Path, name: str) -> None:
    source = HUB_MADE[name](tmp_path / name)
    ds = _wrapped(source, tmp_path)
    if ds.PhotometricInterpretation == "YBR_FULL_422":
        fragment = next(generate_frames(ds.PixelData, number_of_frames=1))
        assert parse_jpeg(fragment).frame.subsampling in ("4:2:2", "4:2:0")
    else:
        assert ds.PhotometricInterpretation == "RGB"
    assert psnr(ds.pixel_array, _reference(source)) >= 45


@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_camera_stream_is_kept_whatever_its_sampling(tmp_path: Path, subsampling: str) -> None:
    source = make_jpeg(tmp_path / "c.jpg", width=320, height=240, subsampling=subsampling)
    ds = _wrapped(source, tmp_path)
    assert ds.file_meta.TransferSyntaxUID == BASELINE
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY"]
    fragment = next(generate_frames(ds.PixelData, number_of_frames=1)).removesuffix(b"\x00")
    data = source.read_bytes()
    structure = parse_jpeg(data)
    first_table = next(s.start for s in structure.segments if s.marker == 0xDB)
    assert fragment.endswith(data[first_table : structure.end])  # byte for byte
