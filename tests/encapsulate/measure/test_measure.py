"""Measuring the wound: perspective, rotation, EXIF orientation, the automatic outline, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from encapsulate.measure import MeasurementRefused, measure_photo, measure_pixels, read_displayed
from encapsulate.measure.plane import DEFAULT_FOCAL_35MM, FILM_DIAGONAL_MM, plane_size
from tests.encapsulate.measure.conftest import SMALL, area_error, bgr, scene


@pytest.mark.parametrize(
    ("tilt", "azimuth", "roll"), [(0, 0, 0), (15, 60, 0), (30, 0, 90), (45, 120, 200)]
)
def test_given_outline_area_is_within_2_percent_under_tilt_and_rotation(
    tilt: float, azimuth: float, roll: float
) -> None:
    shot = scene(tilt_deg=tilt, azimuth_deg=azimuth, roll_deg=roll)
    measured = measure_pixels(bgr(shot.image), outline=shot.outline.tolist())
    assert measured.method == "outline"
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.02
    assert abs(measured.size.length_cm / shot.length_cm - 1) < 0.02
    assert abs(measured.size.width_cm / shot.width_cm - 1) < 0.02


def test_photo_30_degrees_off_measures_what_a_straight_one_does() -> None:
    straight, tilted = scene(), scene(tilt_deg=30.0, azimuth_deg=20.0)
    a = measure_pixels(bgr(straight.image), outline=straight.outline.tolist()).size
    b = measure_pixels(bgr(tilted.image), outline=tilted.outline.tolist()).size
    assert abs(b.area_cm2 / a.area_cm2 - 1) < 0.02
    # A single scale factor would not do: the tilted wound covers fewer pixels.
    assert _pixel_area(tilted.outline) < 0.92 * _pixel_area(straight.outline)


def _pixel_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def test_mm_per_px_at_the_wound_matches_the_camera() -> None:
    shot = scene()
    measured = measure_pixels(bgr(shot.image), outline=shot.outline.tolist())
    focal = DEFAULT_FOCAL_35MM / FILM_DIAGONAL_MM * math.hypot(SMALL["width"], SMALL["height"])
    assert measured.size.mm_per_px == pytest.approx(SMALL["distance_mm"] / focal, rel=0.01)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_before_measuring(tmp_path: Path, orientation: int) -> None:
    shot = scene(tilt_deg=20.0)
    path = tmp_path / "photo.jpg"
    path.write_bytes(shot.jpeg(quality=92, orientation=orientation))
    measured = measure_photo(path, outline=shot.outline.tolist())
    assert (measured.width, measured.height) == (SMALL["width"], SMALL["height"])
    assert np.abs(measured.marker.corners - shot.marker_corners).max() < 0.3
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.02


def test_heic_photo_is_measured(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    shot = scene()
    path = tmp_path / "photo.heic"
    Image.fromarray(shot.image).save(path, quality=90)
    measured = measure_photo(path, outline=shot.outline.tolist())
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.02


def test_unreadable_photo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"not a photo")
    with pytest.raises(MeasurementRefused, match="cannot be read"):
        measure_photo(path)


@pytest.mark.parametrize(
    ("skin", "inverted"), [("light", False), ("light", True), ("dark", False), ("dark", True)]
)
def test_automatic_outline_is_within_10_percent_on_both_skin_tones(
    skin: str, inverted: bool
) -> None:
    shot = scene(skin=skin, inverted=inverted, tilt_deg=20.0, roll_deg=30.0)
    measured = measure_pixels(bgr(shot.image))
    assert measured.method == "auto"
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.10


@pytest.mark.parametrize(("seed", "skin"), [(2, "light"), (2, "dark"), (4, "dark")])
def test_automatic_outline_keeps_slough_and_leaves_the_red_rim(seed: int, skin: str) -> None:
    # Mixed beds where a one-colour split (the first version) refused or lost
    # most of the wound: slough patches are not skin, so they stay inside.
    shot = scene(bed="mixed", skin=skin, seed=seed)
    measured = measure_pixels(bgr(shot.image))
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.10


def test_automatic_outline_grows_from_the_tapped_point() -> None:
    # The wound off-centre: the centre of the photo is skin, the tap is on the wound.
    shot = scene(roll_deg=0.0)
    shifted = np.roll(shot.image, (-120, -160), axis=(0, 1))
    with pytest.raises(MeasurementRefused, match="nothing at the chosen point stands out"):
        measure_pixels(bgr(shifted))
    tap = (shot.wound_centre[0] - 160, shot.wound_centre[1] - 120)
    measured = measure_pixels(bgr(shifted), seed=tap)
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.10


def test_automatic_outline_running_to_the_edge_is_refused() -> None:
    # A shadow over the left third: tapped there, the "wound" is the shadow.
    shaded = scene().image.astype(np.float32)
    shaded[:, : SMALL["width"] // 3] *= 0.55
    image = bgr(shaded.astype(np.uint8))
    with pytest.raises(MeasurementRefused, match="runs to the edge of the photo"):
        measure_pixels(image, seed=(60.0, 300.0))


def test_self_crossing_outline_is_refused() -> None:
    shot = scene()
    (x, y) = shot.wound_centre
    bow_tie = [[x - 40, y - 40], [x + 40, y + 40], [x + 40, y - 40], [x - 40, y + 40]]
    with pytest.raises(MeasurementRefused, match="crosses itself"):
        measure_pixels(bgr(shot.image), outline=bow_tie)


def test_outline_partly_outside_the_photo_is_refused() -> None:
    shot = scene()
    outline = shot.outline.copy()
    outline[0] = [SMALL["width"] + 5, outline[0][1]]
    with pytest.raises(MeasurementRefused, match="outside the 800x600 photo"):
        measure_pixels(bgr(shot.image), outline=outline.tolist())


@pytest.mark.parametrize("points", [[[1, 1], [2, 2]], [[1, 1], [5, 5], [9, 9]], "x", [[1, "a"]]])
def test_outline_without_an_area_is_refused(points: object) -> None:
    with pytest.raises(MeasurementRefused, match="outline"):
        measure_pixels(bgr(scene().image), outline=points)


def test_view_beyond_60_degrees_is_refused() -> None:
    shot = scene(tilt_deg=66.0, distance_mm=110.0, marker_at_mm=(26.0, 0.0), wound_radius_mm=6.0)
    with pytest.raises(MeasurementRefused, match=r"degrees off the perpendicular, beyond 60"):
        measure_pixels(bgr(shot.image), outline=shot.outline.tolist())


def test_view_at_50_degrees_is_measured() -> None:
    shot = scene(tilt_deg=48.0, distance_mm=130.0, marker_at_mm=(26.0, 0.0), wound_radius_mm=6.0)
    measured = measure_pixels(bgr(shot.image), outline=shot.outline.tolist())
    assert 45 < measured.view_angle_deg < 60
    assert area_error(measured.size.area_cm2, shot.area_cm2) < 0.03


def test_outline_beyond_the_planes_horizon_is_refused() -> None:
    # A homography whose vanishing line x = 100 crosses the outline.
    homography = np.array([[1.0, 0, 0], [0, 1.0, 0], [-0.01, 0, 1.0]])
    outline = np.array([[50.0, 10], [150.0, 10], [150.0, 60], [50.0, 60]])
    with pytest.raises(MeasurementRefused, match="horizon"):
        plane_size(outline, homography)


def test_view_angle_uses_the_exif_focal_length(tmp_path: Path) -> None:
    shot = scene(tilt_deg=20.0)
    plain, tele = tmp_path / "plain.jpg", tmp_path / "tele.jpg"
    image = Image.fromarray(shot.image)
    image.save(plain, quality=92)
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[0xA405] = 78  # FocalLengthIn35mmFilm: a 3x lens
    image.save(tele, quality=92, exif=exif.tobytes())
    assert read_displayed(tele).focal_35mm == 78.0
    assert read_displayed(plain).focal_35mm is None
    default = measure_photo(plain, outline=shot.outline.tolist())
    long_lens = measure_photo(tele, outline=shot.outline.tolist())
    # The rendering camera is a 26 mm one: the default reads the true angle.
    assert 15 < default.view_angle_deg < 30
    assert long_lens.view_angle_deg != pytest.approx(default.view_angle_deg, abs=1.0)
    assert long_lens.size.area_cm2 == pytest.approx(default.size.area_cm2, rel=1e-9)
