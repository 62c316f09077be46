"""What the output says of the pixels' history (PS3.3 C.7.6.1.1.5, C.7.6.1):
Lossy Image Compression empty when unknown, an EXIF turn recorded."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from encapsulate import InstanceIdentity, parse_context, wrap
from tests.dicom_checks import assert_dciodvfy_clean
from tests.media import make_jpeg
from tests.media_photos import make_bmp, make_png, make_webp

WHEN = "2026-11-28T10:15:00+01:00"


def _wrapped(source: Path, tmp_path: Path, specialty: str) -> pydicom.Dataset:
    context = parse_context({"patient": {"id": "M1"}, "specialty": specialty, "captured_at": WHEN})
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path)


@pytest.mark.parametrize("specialty", ["wound", "general"])  # VL Photographic, SC
@pytest.mark.parametrize(
    ("make", "name"),
    [(make_png, "s.png"), (make_bmp, "s.bmp"), (lambda p: make_webp(p, lossless=True), "s.webp")],
    ids=["png", "bmp", "webp-lossless"],
)
def test_lossless_file_of_unknown_history_leaves_lossy_empty(tmp_path, make, name, specialty):
    ds = _wrapped(make(tmp_path / name), tmp_path, specialty)
    assert ds["LossyImageCompression"].is_empty  # type 2: unknown, not "00"


def test_ophthalmic_needs_a_value_and_takes_a_lossless_export_as_never_lossy(tmp_path):
    context = parse_context(
        {
            "patient": {"id": "M1"},
            "specialty": "ophthalmology",
            "captured_at": WHEN,
            "body_site": {"code": "SCT:5665001", "laterality": "L"},
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    source = make_png(tmp_path / "fundus.png")
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert_dciodvfy_clean(written.path)
    assert pydicom.dcmread(written.path).LossyImageCompression == "00"  # type 1 there


def test_lossless_turn_is_recorded(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "turned.jpg", width=320, height=240, orientation=8)
    ds = _wrapped(source, tmp_path, "wound")
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY"]
    assert "EXIF orientation 8 applied losslessly" in ds.DerivationDescription
    assert (ds.Rows, ds.Columns) == (320, 240)
