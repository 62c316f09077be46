"""Finding the calibration marker: polarities, skin tones, sub-pixel corners, refusals."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from encapsulate.measure import MeasurementRefused, measure_pixels
from encapsulate.measure.marker import find_markers
from encapsulate.measure.sheet import marker_sheet_svg
from tests.encapsulate.measure.conftest import bgr, scene


@pytest.mark.parametrize(
    ("skin", "inverted"), [("light", False), ("light", True), ("dark", False), ("dark", True)]
)
def test_marker_corners_are_found_within_a_tenth_of_a_pixel(skin: str, inverted: bool) -> None:
    shot = scene(skin=skin, inverted=inverted, tilt_deg=25.0, roll_deg=15.0)
    markers = find_markers(cv2.cvtColor(shot.image, cv2.COLOR_RGB2GRAY))
    assert [m.id for m in markers] == [7]
    assert np.abs(markers[0].corners - shot.marker_corners).max() < 0.1


def test_close_up_marker_with_wide_cells_keeps_its_true_corners() -> None:
    # Cells wider than OpenCV's threshold window make its raw corners lie inside
    # the square; the edge fit must bring them back.
    shot = scene(distance_mm=60.0, marker_at_mm=(22.0, 0.0), wound_radius_mm=5.0)
    (marker,) = find_markers(cv2.cvtColor(shot.image, cv2.COLOR_RGB2GRAY))
    assert marker.side_px > 180  # cells of 30 px and more
    assert np.abs(marker.corners - shot.marker_corners).max() < 0.15


def test_printed_sheet_markers_measure_their_stated_side() -> None:
    svg = marker_sheet_svg(marker_mm=20.0)
    k = 8  # pixels per mm
    page = np.full((297 * k, 210 * k), 255, np.uint8)
    pattern = r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#000"/>'
    for match in re.finditer(pattern, svg):
        x, y, w, h = (float(v) * k for v in match.groups())
        cv2.rectangle(page, (round(x), round(y)), (round(x + w) - 1, round(y + h) - 1), 0, -1)
    markers = find_markers(page)
    assert sorted(m.id for m in markers) == list(range(len(markers)))
    assert len(markers) >= 20
    sides = [m.side_px / k for m in markers]
    assert max(abs(side - 20.0) for side in sides) < 0.05


def test_photo_without_a_marker_is_refused() -> None:
    shot = scene()
    blank = shot.image.copy()
    x0, y0 = shot.marker_corners.min(axis=0).astype(int) - 20
    x1, y1 = shot.marker_corners.max(axis=0).astype(int) + 20
    blank[y0:y1, x0:x1] = blank[y0 - 60 : y0 - 60 + (y1 - y0), x0:x1]
    with pytest.raises(MeasurementRefused, match="no calibration marker"):
        measure_pixels(bgr(blank), outline=shot.outline.tolist())


def test_marker_under_40_px_is_refused() -> None:
    shot = scene(distance_mm=420.0)
    with pytest.raises(MeasurementRefused, match=r"px a side, under 40 px"):
        measure_pixels(bgr(shot.image), outline=shot.outline.tolist())


def test_two_markers_of_different_sizes_are_refused() -> None:
    shot = scene(extra_marker=((-40.0, -10.0), 30.0))
    assert len(find_markers(cv2.cvtColor(shot.image, cv2.COLOR_RGB2GRAY))) == 2
    with pytest.raises(MeasurementRefused, match="markers of different sizes"):
        measure_pixels(bgr(shot.image), outline=shot.outline.tolist())


def test_two_markers_of_one_size_measure_with_the_nearer() -> None:
    shot = scene(extra_marker=((-40.0, -10.0), 20.0))
    measured = measure_pixels(bgr(shot.image), outline=shot.outline.tolist())
    assert abs(measured.size.area_cm2 / shot.area_cm2 - 1) < 0.02
