"""Every photo format becomes a valid instance of the right IOD, without private metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pillow_heif
import pydicom
import pytest
from PIL import Image

from encapsulate import InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.photo.decode import read_raster
from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors, psnr
from tests.media_photos import (
    PRIVATE_TEXTS,
    make_bmp,
    make_cmyk_jpeg,
    make_heic,
    make_png,
    make_tiff,
    make_webp,
)

VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
SC = "1.2.840.10008.5.1.4.1.1.7"
JPEG_LS = "1.2.840.10008.1.2.4.80"
BASELINE = "1.2.840.10008.1.2.4.50"
WHEN = "2026-11-28T10:15:00+01:00"

# (maker, specialty, SOP class, transfer syntax, lossless, derived)
CASES: dict[str, tuple[Callable[[Path], Path], str, str, str, bool, bool]] = {
    "png-rgb-general": (make_png, "general", SC, JPEG_LS, True, False),
    "png-rgb-wound": (make_png, "wound", VL_PHOTO, JPEG_LS, True, False),
    "png-rgba": (lambda p: make_png(p, mode="RGBA"), "wound", VL_PHOTO, JPEG_LS, False, True),
    "png-palette": (lambda p: make_png(p, mode="P"), "general", SC, JPEG_LS, True, False),
    "png-grey16": (lambda p: make_png(p, mode="I;16"), "wound", SC, JPEG_LS, True, False),
    "tiff": (make_tiff, "general", VL_PHOTO, JPEG_LS, True, False),
    "webp-lossless": (
        lambda p: make_webp(p, lossless=True),
        "burn",
        VL_PHOTO,
        JPEG_LS,
        True,
        False,
    ),
    # A decoded lossy source is stored losslessly (photo/pixels.py): exact pixels.
    "webp-lossy": (lambda p: make_webp(p, lossless=False), "burn", VL_PHOTO, JPEG_LS, True, False),
    "heic": (make_heic, "dermatology", VL_PHOTO, JPEG_LS, True, False),
    "cmyk-jpeg": (make_cmyk_jpeg, "wound", VL_PHOTO, JPEG_LS, False, True),
    "bmp": (make_bmp, "general", SC, JPEG_LS, True, False),
}


def _reference(source: Path) -> np.ndarray:
    """The source as the hub should show it: upright, alpha on white, CMYK as RGB."""
    pillow_heif.register_heif_opener()
    image = Image.open(source)
    if image.mode in ("RGBA", "P"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    elif image.mode == "CMYK":
        image = image.convert("RGB")
    return np.asarray(image)


@pytest.mark.parametrize("case", CASES)
def test_format_becomes_valid_dicom(tmp_path: Path, case: str) -> None:
    make, specialty, sop_class, syntax, lossless, derived = CASES[case]
    extension = {"cmyk-jpeg": "jpg", "heic": "heic"}.get(case, case.split("-")[0])
    source = make(tmp_path / f"source.{extension}")
    context = parse_context({"patient": {"id": "M1"}, "specialty": specialty, "captured_at": WHEN})
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert dciodvfy_errors(written.path) == []
    ds = pydicom.dcmread(written.path)
    assert (written.sop_class_uid, ds.SOPClassUID) == (sop_class, sop_class)
    assert written.transfer_syntax_uid == ds.file_meta.TransferSyntaxUID == syntax
    assert written.derived is derived
    assert ds.ImageType[0] == ("DERIVED" if derived else "ORIGINAL")
    data = written.path.read_bytes()
    assert_no_private_metadata(data)
    for text in PRIVATE_TEXTS:
        assert text not in data
    decoded = ds.pixel_array
    reference = _reference(source)
    if case == "png-rgba":
        # Transparent quarter composited on white, the rest exact.
        assert np.array_equal(decoded, reference)
    elif lossless:
        assert np.array_equal(decoded, reference)
    else:
        # The CMYK -> RGB conversion is Pillow's, as a viewer makes it.
        assert psnr(decoded, reference) >= 45


def test_grey16_keeps_its_bits(tmp_path: Path) -> None:
    source = make_png(tmp_path / "g.png", mode="I;16")
    context = parse_context({"patient": {"id": "M1"}})
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    ds = pydicom.dcmread(written.path)
    assert (ds.BitsAllocated, ds.BitsStored, ds.PhotometricInterpretation) == (
        16,
        16,
        "MONOCHROME2",
    )
    assert ds.pixel_array.dtype == np.uint16
    assert np.array_equal(ds.pixel_array, np.asarray(Image.open(source)))


def test_inspect_media_json(tmp_path: Path) -> None:
    info = inspect_media(make_png(tmp_path / "a.png")).as_json()
    assert (info["kind"], info["mime_type"], info["rows"], info["columns"]) == (
        "photo",
        "image/png",
        64,
        96,
    )
    assert {"GPS", "PNG text", "PNG text (XMP)"} <= set(info["private_metadata"])
    heic = inspect_media(make_heic(tmp_path / "h.heic")).as_json()
    assert heic["mime_type"] == "image/heif" and heic["components"] == 3


def test_alpha_decision_is_recorded(tmp_path: Path) -> None:
    raster = read_raster(make_png(tmp_path / "a.png", mode="RGBA"))
    assert raster.changes == (
        "transparency composited on white (DICOM images have no alpha channel)",
    )
    opaque = tmp_path / "o.png"
    Image.new("RGBA", (8, 8), (1, 2, 3, 255)).save(opaque)
    assert read_raster(opaque).changes == ()  # an opaque alpha is dropped: nothing changes
