"""The marker search on a reduced copy of a photo file, refined at full resolution."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from encapsulate.measure import MeasurementRefused, measure_photo
from encapsulate.measure.marker import SEARCH_REDUCTION, search_copy
from encapsulate.measure.photo_measure import read_displayed, read_search_copy
from tests.encapsulate.measure.conftest import SMALL, area_error, scene


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_search_copy_of_a_jpeg_is_the_displayed_photo_reduced(
    tmp_path: Path, orientation: int
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(scene(tilt_deg=20.0).jpeg(quality=92, orientation=orientation))
    copy, full = read_search_copy(path)
    assert full == (SMALL["width"], SMALL["height"])
    expected = search_copy(cv2.cvtColor(read_displayed(path).pixels, cv2.COLOR_BGR2GRAY))
    assert (
        copy.shape
        == expected.shape
        == (
            SMALL["height"] // SEARCH_REDUCTION,
            SMALL["width"] // SEARCH_REDUCTION,
        )
    )
    # The DCT-domain decode is not a box filter of the full decode, but close to one.
    assert np.abs(copy.astype(int) - expected.astype(int)).mean() < 3


def test_search_copy_of_a_png_is_reduced_from_the_full_decode(tmp_path: Path) -> None:
    shot = scene()
    path = tmp_path / "photo.png"
    Image.fromarray(shot.image).save(path)
    copy, full = read_search_copy(path)
    assert full == (SMALL["width"], SMALL["height"])
    expected = search_copy(cv2.cvtColor(shot.image, cv2.COLOR_RGB2GRAY))
    assert np.abs(copy.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_marker_found_on_the_copy_has_full_resolution_corners(tmp_path: Path, suffix: str) -> None:
    shot = scene(tilt_deg=25.0, roll_deg=15.0, inverted=True)
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(shot.image).save(path, quality=95)
    measured = measure_photo(path, outline=shot.outline.tolist())
    assert np.abs(measured.marker.corners - shot.marker_corners).max() < 0.2
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.02


def test_photo_file_without_a_marker_is_refused(tmp_path: Path) -> None:
    shot = scene()
    blank = shot.image.copy()
    x0, y0 = shot.marker_corners.min(axis=0).astype(int) - 20
    x1, y1 = shot.marker_corners.max(axis=0).astype(int) + 20
    blank[y0:y1, x0:x1] = blank[y0 - 60 : y0 - 60 + (y1 - y0), x0:x1]
    path = tmp_path / "photo.jpg"
    Image.fromarray(blank).save(path, quality=92)
    with pytest.raises(MeasurementRefused, match="no calibration marker"):
        measure_photo(path, outline=shot.outline.tolist())


def test_photo_file_with_a_bad_outline_is_refused_for_the_outline_first(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (SMALL["width"], SMALL["height"]), (200, 160, 140)).save(path)
    outline = [[10, 10], [SMALL["width"] + 5, 10], [10, 50]]
    with pytest.raises(MeasurementRefused, match="outside the 800x600 photo"):
        measure_photo(path, outline=outline)


@pytest.mark.parametrize("orientation", [1, 6])
def test_marker_under_40_px_in_a_photo_file_is_refused_as_too_small(
    tmp_path: Path, orientation: int
) -> None:
    # About 29 px a side at full resolution: 14 px on the search copy, still seen.
    shot = scene(distance_mm=420.0)
    path = tmp_path / "photo.jpg"
    path.write_bytes(shot.jpeg(quality=92, orientation=orientation))
    with pytest.raises(MeasurementRefused, match=r"(2[89]|30) px a side, under 40 px"):
        measure_photo(path, outline=shot.outline.tolist())
