"""One reduced decode of a wound photo serves its face preview and its marker search."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL.JpegImagePlugin import JpegImageFile

from encapsulate import Specialty, inspect_media
from encapsulate.measure.marker import SEARCH_REDUCTION
from encapsulate.measure.photo_measure import read_search_copy
from encapsulate.media.privacy import count_faces
from encapsulate.photo import gray_copy as module
from encapsulate.photo.camera_jpeg import read_camera_jpeg
from encapsulate.photo.gray_copy import gray_copy
from encapsulate.photo.jpeg_wrap import preview_pixels
from tests.media import make_jpeg
from tests.media_photos import make_face_photo


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ``gray_copy`` decoded, in order; nothing kept from another test."""
    monkeypatch.setattr(module, "_kept", None)
    decoded: list[Path] = []
    real = module._decoded

    def counted(file, reduction):  # type: ignore[no-untyped-def]
        decoded.append(Path(file.name))
        return real(file, reduction)

    monkeypatch.setattr(module, "_decoded", counted)
    return decoded


def test_the_copy_kept_for_a_file_is_taken_without_a_second_decode(
    tmp_path: Path, decodes: list[Path]
) -> None:
    path = make_jpeg(tmp_path / "wound.jpg", width=640, height=480)
    kept = gray_copy(path, reduction=SEARCH_REDUCTION, keep=True)
    search, full = read_search_copy(path)
    assert search is kept.pixels
    assert full == (640, 480)
    assert decodes == [path]
    # Taken by the measurement, it is let go: the next reader decodes again.
    read_search_copy(path)
    assert decodes == [path, path]


def test_the_kept_copy_is_read_only(tmp_path: Path, decodes: list[Path]) -> None:
    path = make_jpeg(tmp_path / "wound.jpg", width=640, height=480)
    kept = gray_copy(path, reduction=SEARCH_REDUCTION, keep=True)
    with pytest.raises(ValueError, match="read-only"):
        kept.pixels[0, 0] = 0


@pytest.mark.parametrize("change", ["rewritten", "touched"])
def test_a_file_changed_in_place_is_decoded_again(
    tmp_path: Path, decodes: list[Path], change: str
) -> None:
    path = make_jpeg(tmp_path / "wound.jpg", width=640, height=480)
    gray_copy(path, reduction=SEARCH_REDUCTION, keep=True)
    stat = path.stat()
    if change == "rewritten":
        # New bytes and a new size in the same inode, the old modification time put back.
        with path.open("r+b") as file:
            file.write(make_jpeg(tmp_path / "other.jpg", width=320, height=240).read_bytes())
            file.truncate()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_ino == stat.st_ino and path.stat().st_size != stat.st_size
    else:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    search, full = read_search_copy(path)
    assert decodes == [path, path]
    if change == "rewritten":
        assert full == (320, 240) and search.shape == (120, 160)


def test_another_file_asked_for_lets_the_kept_copy_go(tmp_path: Path, decodes: list[Path]) -> None:
    first = make_jpeg(tmp_path / "first.jpg", width=640, height=480)
    second = make_jpeg(tmp_path / "second.jpg", width=640, height=480)
    gray_copy(first, reduction=SEARCH_REDUCTION, keep=True)
    read_search_copy(second)
    read_search_copy(first)
    assert decodes == [first, second, first]


def test_a_copy_at_another_reduction_is_decoded(tmp_path: Path, decodes: list[Path]) -> None:
    path = make_jpeg(tmp_path / "wound.jpg", width=640, height=480)
    gray_copy(path, reduction=SEARCH_REDUCTION, keep=True)
    assert gray_copy(path, reduction=4).pixels.shape == (120, 160)
    assert decodes == [path, path]


def jpeg_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every JPEG Pillow decodes from here on."""
    decoded: list[tuple[int, int]] = []
    real = JpegImageFile.load

    def counted(image: JpegImageFile):  # type: ignore[no-untyped-def]
        if image.tile:  # not decoded yet
            decoded.append(image.size)
        return real(image)

    monkeypatch.setattr(JpegImageFile, "load", counted)
    return decoded


@pytest.mark.parametrize("measured", [False, True])
def test_inspection_decodes_a_jpeg_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, measured: bool
) -> None:
    monkeypatch.setattr(module, "_kept", None)
    source = make_face_photo(tmp_path / "face.jpg", scale=8, orientation=8)
    decoded = jpeg_decodes(monkeypatch)
    inspect_media(source, specialty=Specialty.WOUND, for_measurement=measured)
    read_search_copy(source)
    # Stored 3016x2400: the preview alone at 1/4, the search copy at 1/2.
    assert decoded == ([(1508, 1200)] if measured else [(754, 600), (1508, 1200)])


def test_a_face_is_found_through_the_preview_derived_from_the_search_copy(
    tmp_path: Path, decodes: list[Path]
) -> None:
    # 2400x3016 stored turned: the preview is the 1/4 scale, twice the search copy's reduction.
    source = make_face_photo(tmp_path / "face.jpg", scale=8, orientation=8)
    info = inspect_media(source, specialty=Specialty.WOUND, for_measurement=True)
    assert info.faces is not None and info.faces >= 1
    assert decodes == [source]
    search, full = read_search_copy(source)
    assert full == (2400, 3016)
    assert decodes == [source]

    jpeg = read_camera_jpeg(source)
    derived = preview_pixels(jpeg, search=module.GrayCopy(search, full, SEARCH_REDUCTION))
    decoded = preview_pixels(jpeg)
    assert derived is not None and decoded is not None
    assert derived.shape == decoded.shape == (754, 600)
    # Box means of the 1/2-scale decode against libjpeg's 1/4 scale: the same picture.
    assert np.abs(derived.astype(int) - decoded.astype(int)).mean() < 2
    assert count_faces(derived) == count_faces(decoded) >= 1


def test_a_photo_not_measured_keeps_nothing(tmp_path: Path, decodes: list[Path]) -> None:
    source = make_face_photo(tmp_path / "face.jpg", scale=8, orientation=8)
    assert inspect_media(source, specialty=Specialty.WOUND).faces
    assert module._kept is None
    assert decodes == []
