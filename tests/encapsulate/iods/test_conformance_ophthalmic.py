"""Ophthalmic Photography 8 and 16 Bit (PS3.3 A.39, C.8.17.2): laterality R, L or B,
an Anatomic Region, Presentation LUT Shape when monochrome; refused when impossible."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.uid import (
    OphthalmicPhotography8BitImageStorage,
    OphthalmicPhotography16BitImageStorage,
)

from encapsulate import ContextError, InstanceIdentity, parse_context, wrap
from tests.dicom_checks import assert_dciodvfy_clean
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media import make_jpeg
from tests.media_photos import make_png

RIGHT_RETINA = {"code": "SCT:5665001", "laterality": "R"}


def _context(body_site: dict[str, Any] | None) -> Any:
    data = copy.deepcopy(FULL_CONTEXT)
    data.update(specialty="ophthalmology", body_site=body_site)
    return parse_context(data)


def _wrap(media: Path, body_site: dict[str, Any] | None, tmp_path: Path) -> pydicom.Dataset:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    [written] = wrap(
        media, context=_context(body_site), identity=InstanceIdentity.mint(), out_dir=out
    )
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path)


@pytest.fixture
def fundus(tmp_path: Path) -> Path:
    return make_jpeg(tmp_path / "fundus.jpg", width=320, height=240)


def test_right_eye_photo_is_valid_ophthalmic(fundus: Path, tmp_path: Path) -> None:
    ds = _wrap(fundus, RIGHT_RETINA, tmp_path)
    assert ds.SOPClassUID == OphthalmicPhotography8BitImageStorage
    assert ds.ImageLaterality == "R"
    assert ds.AnatomicRegionSequence[0].CodeValue == "5665001"


def test_both_eyes_gives_b(fundus: Path, tmp_path: Path) -> None:
    ds = _wrap(fundus, {"code": "SCT:40638003"}, tmp_path)
    assert ds.ImageLaterality == "B"
    with pytest.raises(ContextError, match="contradicts Both eyes"):
        _wrap(fundus, {"code": "SCT:40638003", "laterality": "L"}, tmp_path)


@pytest.mark.parametrize(
    ("body_site", "reason"),
    [
        (None, "context.body_site is required for ophthalmic photos"),
        ({"code": "SCT:81745001", "laterality": "U"}, "laterality must be R, L or B"),
        ({"code": "SCT:99999001", "meaning": "Somewhere"}, "laterality must be R, L or B"),
    ],
)
def test_what_cannot_be_valid_is_refused(fundus, tmp_path, body_site, reason) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ContextError, match=reason):
        wrap(fundus, context=_context(body_site), identity=InstanceIdentity.mint(), out_dir=out)
    assert not list(out.iterdir()), "nothing is written for a refused capture"


def test_monochrome_photo_has_presentation_lut_shape(tmp_path: Path) -> None:
    grey = make_jpeg(tmp_path / "grey.jpg", width=320, height=240, grayscale=True)
    ds = _wrap(grey, RIGHT_RETINA, tmp_path)
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.PresentationLUTShape == "IDENTITY"


def test_sixteen_bit_eye_image_is_ophthalmic_16_bit(tmp_path: Path) -> None:
    png = make_png(tmp_path / "oct.png", mode="I;16")
    ds = _wrap(png, RIGHT_RETINA, tmp_path)
    assert ds.SOPClassUID == OphthalmicPhotography16BitImageStorage
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 16, 15)
    assert ds.PresentationLUTShape == "IDENTITY"
    assert ds.ImageLaterality == "R"
    assert ds.pixel_array.dtype.itemsize == 2
