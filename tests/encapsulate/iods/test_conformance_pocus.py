"""POCUS: a probe's own export is US data with the device as equipment; a phone's
picture or video of the scanner's screen is Secondary Capture, DERIVED, with a
Conversion Type (the rule: encapsulate.iods.choice.probe_export)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.uid import (
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from encapsulate import InstanceIdentity, parse_context, wrap
from tests.dicom_checks import assert_dciodvfy_clean
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media import MAKE, make_jpeg, picture
from tests.media_documents import make_pdf
from tests.media_video import make_h264

DOCK = {"station_aet": "POCUS1", "modality": "US"}


def _wrapped(media: Path, tmp_path: Path, device: dict[str, Any] | None) -> pydicom.Dataset:
    data = copy.deepcopy(FULL_CONTEXT)
    data.update(specialty="pocus", device=device)
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(
        media, context=parse_context(data), identity=InstanceIdentity.mint(), out_dir=out
    )
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path, stop_before_pixels=True)


def _probe_png(path: Path) -> Path:
    picture(96, 64).save(path)  # no camera EXIF: what a scanner writes
    return path


def test_phone_photo_of_the_screen_is_secondary_capture(tmp_path: Path) -> None:
    ds = _wrapped(make_jpeg(tmp_path / "p.jpg", width=320, height=240), tmp_path, None)
    assert ds.SOPClassUID == SecondaryCaptureImageStorage
    assert (ds.Modality, ds.ConversionType) == ("US", "SI")
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert "screen" in ds.DerivationDescription
    assert ds.Manufacturer == MAKE  # the phone made this picture, as SC equipment
    assert ds.BurnedInAnnotation == "YES"


def test_even_a_dock_cannot_make_a_camera_photo_us_data(tmp_path: Path) -> None:
    ds = _wrapped(make_jpeg(tmp_path / "p.jpg", width=320, height=240), tmp_path, DOCK)
    assert ds.SOPClassUID == SecondaryCaptureImageStorage


def test_a_probe_export_from_the_dock_is_us_image(tmp_path: Path) -> None:
    ds = _wrapped(_probe_png(tmp_path / "scan.png"), tmp_path, DOCK)
    assert ds.SOPClassUID == UltrasoundImageStorage
    assert ds.ImageType[0] == "ORIGINAL"
    assert "ConversionType" not in ds


def test_phone_video_of_the_screen_is_multiframe_secondary_capture(tmp_path: Path) -> None:
    ds = _wrapped(make_h264(tmp_path / "v.mp4", seconds=0.3), tmp_path, None)
    assert ds.SOPClassUID == MultiFrameTrueColorSecondaryCaptureImageStorage
    assert (ds.Modality, ds.ConversionType) == ("US", "SI")
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert ds.BurnedInAnnotation == "YES"


def test_a_probe_video_from_the_dock_is_us_multiframe(tmp_path: Path) -> None:
    ds = _wrapped(make_h264(tmp_path / "v.mp4", seconds=0.3), tmp_path, DOCK)
    assert ds.SOPClassUID == UltrasoundMultiFrameImageStorage
    assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY"]


@pytest.mark.parametrize("device", [None, DOCK])
def test_a_document_is_a_document(tmp_path: Path, device) -> None:
    ds = _wrapped(make_pdf(tmp_path / "d.pdf"), tmp_path, device)
    assert ds.Modality == "DOC"
