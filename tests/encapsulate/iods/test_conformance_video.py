"""Video objects: Burned In Annotation and Recognizable Visual Features on each (PS3.3
C.7.6.1, one policy table: media.privacy.POLICIES), and one Lossy Image Compression
Ratio and Method per lossy step (C.7.6.1.1.5)."""

from __future__ import annotations

import copy
from pathlib import Path

import pydicom
import pytest

from encapsulate import InstanceIdentity, parse_context, wrap
from encapsulate.media.privacy import POLICIES
from tests.dicom_checks import assert_dciodvfy_clean, dciodvfy_errors
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media_video import make_h264, make_webm


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_h264(tmp_path_factory.mktemp("v") / "clip.mp4", seconds=0.3)


def _wrapped(media: Path, tmp_path: Path, specialty: str) -> pydicom.Dataset:
    data = copy.deepcopy(FULL_CONTEXT)
    data["specialty"] = specialty
    if specialty == "ophthalmology":
        data["body_site"] = {"code": "SCT:81745001", "laterality": "R"}
    out = tmp_path / specialty
    out.mkdir()
    [written] = wrap(
        media, context=parse_context(data), identity=InstanceIdentity.mint(), out_dir=out
    )
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path, stop_before_pixels=True)


@pytest.mark.parametrize("specialty", [s.value for s in POLICIES])
def test_every_video_says_what_it_may_reveal(clip: Path, tmp_path: Path, specialty: str) -> None:
    ds = _wrapped(clip, tmp_path, specialty)
    expected_annotation = "YES" if specialty in ("pocus", "endoscopy") else "NO"
    assert ds.BurnedInAnnotation == expected_annotation
    # No face detection on video: where a face may be in frame, it cannot be ruled out.
    could_show_face = specialty not in ("pocus", "endoscopy", "dermoscopy")
    assert ds.RecognizableVisualFeatures == ("YES" if could_show_face else "NO")


def test_passthrough_has_one_lossy_step(clip: Path, tmp_path: Path) -> None:
    ds = _wrapped(clip, tmp_path, "wound")
    assert ds.LossyImageCompression == "01"
    assert ds["LossyImageCompressionRatio"].VM == 1
    assert ds.LossyImageCompressionMethod == "ISO_14496_10"


def test_transcode_records_both_lossy_steps(tmp_path: Path) -> None:
    webm = make_webm(tmp_path / "clip.webm")
    ds = _wrapped(webm, tmp_path, "wound")
    assert ds.ImageType[0] == "DERIVED"
    assert list(ds.LossyImageCompressionMethod) == ["VP9", "ISO_14496_10"]
    assert ds["LossyImageCompressionRatio"].VM == 2
    assert all(float(ratio) > 1 for ratio in ds.LossyImageCompressionRatio)


@pytest.mark.parametrize("specialty", [s.value for s in POLICIES])
def test_a_video_with_no_known_time_leaves_content_date_and_time_out(
    clip: Path, tmp_path: Path, specialty: str
) -> None:
    """The clip has no creation time and the context none: Content Date and Time are
    Type 1C in VL Image (C.8.12.1), so left out, never written empty (as a WIC
    client's metadata may well give no time). Without a study the match step
    would date, Study Date and Time stay empty: dciodvfy's DICOMDIR warnings."""
    data = copy.deepcopy(FULL_CONTEXT)
    data.pop("captured_at", None)
    data["specialty"] = specialty
    if specialty == "ophthalmology":
        data["body_site"] = {"code": "SCT:81745001", "laterality": "R"}
    [written] = wrap(
        clip, context=parse_context(data), identity=InstanceIdentity.mint(), out_dir=tmp_path
    )
    assert dciodvfy_errors(written.path) == []
    ds = pydicom.dcmread(written.path, stop_before_pixels=True)
    assert "ContentTime" not in ds or ds.ContentTime
