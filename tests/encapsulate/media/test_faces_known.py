"""Faces are counted once, at inspection; wrap takes the count instead of looking again."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from encapsulate import InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.media.privacy import face_detection_available
from tests.media import make_jpeg

WOUND = parse_context({"patient": {"id": "MRN-1"}, "specialty": "wound"})


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return make_jpeg(tmp_path / "wound.jpg", width=640, height=480)


def wrapped(photo: Path, tmp_path: Path, **known: int) -> pydicom.Dataset:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (written,) = wrap(photo, context=WOUND, identity=InstanceIdentity.mint(), out_dir=out, **known)
    return pydicom.dcmread(written.path)


def test_inspection_counts_the_faces(photo: Path) -> None:
    faces = inspect_media(photo).faces

    assert faces == 0 if face_detection_available() else faces is None


@pytest.mark.parametrize(("faces", "flag"), [(0, "NO"), (1, "YES"), (3, "YES")])
def test_a_count_from_inspection_sets_the_flag_without_looking_again(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faces: int, flag: str
) -> None:
    def no_second_look(*_: object) -> int:
        raise AssertionError("faces were looked for again")

    monkeypatch.setattr("encapsulate.media.privacy.count_faces", no_second_look)

    assert wrapped(photo, tmp_path, faces=faces).RecognizableVisualFeatures == flag


def test_without_a_count_wrap_looks_for_itself(photo: Path, tmp_path: Path) -> None:
    expected = "NO" if face_detection_available() else "YES"
    assert wrapped(photo, tmp_path).RecognizableVisualFeatures == expected
