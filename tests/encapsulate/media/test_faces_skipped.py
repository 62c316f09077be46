"""Faces are counted only where they decide Recognizable Visual Features.

Where the specialty's policy fixes the attribute anyway (no detector for it:
dermoscopy, endoscopy, POCUS), inspection with the specialty skips the
detector, ``MediaInfo.faces`` stays None, and the written attribute is the
policy's; where a face decides it, inspection still finds the real one.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from encapsulate import InstanceIdentity, Specialty, inspect_media, parse_context, wrap
from encapsulate.media.privacy import POLICIES, faces_decide
from tests.media_photos import make_face_photo


def no_look(*_: object) -> int:
    raise AssertionError("faces were looked for")


def test_faces_decide_only_where_the_policy_leaves_it_to_them() -> None:
    for specialty, policy in POLICIES.items():
        assert faces_decide(specialty) is (policy.detect_faces and not policy.recognizable)
    assert not faces_decide(Specialty.ENDOSCOPY)
    assert faces_decide(Specialty.WOUND)


@pytest.mark.parametrize("name", ["face.jpg", "face.png"])
@pytest.mark.parametrize("specialty", ["endoscopy", "dermoscopy"])
def test_a_specialty_whose_policy_decides_skips_the_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, specialty: str
) -> None:
    source = make_face_photo(tmp_path / name)
    monkeypatch.setattr("encapsulate.media.privacy.count_faces", no_look)
    monkeypatch.setattr("encapsulate.photo.jpeg_wrap.count_faces", no_look)
    monkeypatch.setattr("encapsulate.photo.raster_wrap.count_faces", no_look)

    info = inspect_media(source, specialty=Specialty(specialty))
    assert info.faces is None
    assert info.rows and info.columns

    out = tmp_path / "out"
    out.mkdir()
    context = parse_context({"patient": {"id": "MRN-1"}, "specialty": specialty})
    (written,) = wrap(
        source, context=context, identity=InstanceIdentity.mint(), out_dir=out, faces=info.faces
    )
    assert pydicom.dcmread(written.path).RecognizableVisualFeatures == "NO"  # the policy's


@pytest.mark.parametrize("name", ["face.jpg", "face.png"])
def test_a_specialty_where_faces_decide_still_finds_the_real_one(tmp_path: Path, name: str) -> None:
    source = make_face_photo(tmp_path / name)
    assert inspect_media(source, specialty=Specialty.WOUND).faces == 1
    assert inspect_media(source).faces == 1
