"""A real face in frame makes Recognizable Visual Features YES (PS3.3 C.7.6.1).

The photograph is a real portrait shipped inside a pinned wheel (mahotas, see
``tests.media_photos.FACE_PHOTO``), so the detector is proven on a face, not on
a drawing; nothing is downloaded. The same photo cropped below the chin is the
control, and a specialty that does not look (endoscopy) keeps its default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from encapsulate import InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.media.privacy import count_faces, face_detection_available
from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors
from tests.media_photos import NO_FACE_BOX, PRIVATE_TEXTS, face_photo, make_face_photo

# (file name, scale, EXIF orientation): as the camera JPEG and PNG it is, and
# at a phone's size stored turned (orientation 8, 3), which the detector only
# finds once the photo is upright.
FACE_FILES = {
    "jpeg": ("face.jpg", 1, 1),
    "png": ("face.png", 1, 1),
    "jpeg-phone-size-turned": ("face.jpg", 4, 8),
    "png-upside-down": ("face.png", 1, 3),
}
FACE_PHOTO_WIDTH, FACE_PHOTO_HEIGHT = 300, 377


def wrapped(
    source: Path, tmp_path: Path, specialty: str, **known: int
) -> tuple[Path, pydicom.Dataset]:
    out = tmp_path / f"out-{specialty}"
    out.mkdir(exist_ok=True)
    context = parse_context({"patient": {"id": "MRN-1"}, "specialty": specialty})
    (written,) = wrap(
        source, context=context, identity=InstanceIdentity.mint(), out_dir=out, **known
    )
    return written.path, pydicom.dcmread(written.path)


def test_the_detector_is_there() -> None:
    # Without it every photo is YES (privacy.privacy_flags), and none of the
    # tests below would prove detection: the pinned OpenCV must carry it.
    assert face_detection_available()


def test_the_photo_is_the_real_one() -> None:
    photo = face_photo()
    assert photo.size == (FACE_PHOTO_WIDTH, FACE_PHOTO_HEIGHT)
    # A photograph, not a flat drawing: many distinct colours.
    assert len(np.unique(np.asarray(photo).reshape(-1, 3), axis=0)) > 10_000
    assert count_faces(np.asarray(photo)) == 1


@pytest.mark.parametrize("case", FACE_FILES)
def test_a_face_in_frame_is_recognizable(tmp_path: Path, case: str) -> None:
    name, scale, orientation = FACE_FILES[case]
    source = make_face_photo(tmp_path / name, scale=scale, orientation=orientation)
    if orientation != 1:
        # Stored turned, the face is not found: the detector must see it upright.
        assert count_faces(np.asarray(Image.open(source).convert("RGB"))) == 0

    info = inspect_media(source)
    assert info.faces is not None and info.faces >= 1

    path, ds = wrapped(source, tmp_path, "wound", faces=info.faces)
    assert ds.RecognizableVisualFeatures == "YES"
    assert ds.BurnedInAnnotation == "NO"
    assert (ds.Rows, ds.Columns) == (FACE_PHOTO_HEIGHT * scale, FACE_PHOTO_WIDTH * scale)
    assert dciodvfy_errors(path) == []
    data = path.read_bytes()
    assert_no_private_metadata(data)
    for text in PRIVATE_TEXTS:
        assert text not in data


def test_wrap_finds_the_face_itself(tmp_path: Path) -> None:
    """Without the count from inspection, wrap looks, and finds it too."""
    _, ds = wrapped(make_face_photo(tmp_path / "face.jpg"), tmp_path, "wound")
    assert ds.RecognizableVisualFeatures == "YES"


@pytest.mark.parametrize(("name", "scale"), [("below.jpg", 1), ("below.png", 1), ("below.jpg", 4)])
def test_the_photo_cropped_below_the_face_is_not(tmp_path: Path, name: str, scale: int) -> None:
    source = make_face_photo(tmp_path / name, box=NO_FACE_BOX, scale=scale)
    info = inspect_media(source)
    assert info.faces == 0

    path, ds = wrapped(source, tmp_path, "wound", faces=info.faces)
    assert ds.RecognizableVisualFeatures == "NO"
    assert dciodvfy_errors(path) == []
    # Wrap's own look agrees with inspection.
    assert wrapped(source, tmp_path, "dermatology")[1].RecognizableVisualFeatures == "NO"


@pytest.mark.parametrize("name", ["face.jpg", "face.png"])
def test_a_specialty_that_does_not_look_keeps_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Endoscopy: the scope is inside the body, so no detection runs and the policy decides."""
    source = make_face_photo(tmp_path / name)

    def no_look(*_: object) -> int:
        raise AssertionError("faces were looked for")

    monkeypatch.setattr("encapsulate.media.privacy.count_faces", no_look)
    monkeypatch.setattr("encapsulate.photo.jpeg_wrap.count_faces", no_look)
    monkeypatch.setattr("encapsulate.photo.raster_wrap.count_faces", no_look)
    path, ds = wrapped(source, tmp_path, "endoscopy")
    assert ds.RecognizableVisualFeatures == "NO"  # PrivacyPolicy(recognizable=False)
    assert ds.BurnedInAnnotation == "YES"  # the video processor's overlay
    assert dciodvfy_errors(path) == []
