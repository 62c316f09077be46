"""Measure a wound in a photo that shows the calibration sticker beside it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from encapsulate.measure.auto_outline import auto_outline
from encapsulate.measure.marker import (
    DEFAULT_MARKER_MM,
    SEARCH_REDUCTION,
    Marker,
    calibration_marker,
    find_markers,
    refined_markers,
    require_markers,
    sight_markers,
)
from encapsulate.measure.plane import (
    PlaneSize,
    check_view,
    checked_outline,
    plane_size,
    view_angle_deg,
)
from encapsulate.measure.refusal import MeasurementRefused
from encapsulate.photo.gray_copy import gray_copy, register_heif

_FOCAL_35MM = 0xA405
Method = Literal["outline", "auto"]


@dataclass(frozen=True)
class WoundMeasurement:
    """What ``measure_photo`` found; coordinates are displayed pixels, origin at the
    top-left corner of the top-left pixel."""

    size: PlaneSize
    method: Method
    marker: Marker
    marker_mm: float
    outline: np.ndarray  # (n, 2)
    view_angle_deg: float
    width: int
    height: int

    def as_json(self) -> dict[str, object]:
        return {
            "area_cm2": round(self.size.area_cm2, 3),
            "length_cm": round(self.size.length_cm, 3),
            "width_cm": round(self.size.width_cm, 3),
            "perimeter_cm": round(self.size.perimeter_cm, 3),
            "mm_per_px": round(self.size.mm_per_px, 5),
            "method": self.method,
            "marker": {**self.marker.as_json(), "side_mm": self.marker_mm},
            "view_angle_deg": round(self.view_angle_deg, 1),
            "photo": {"width": self.width, "height": self.height},
            "outline": [[round(float(x), 2), round(float(y), 2)] for x, y in self.outline],
        }


@dataclass(frozen=True)
class DisplayedPhoto:
    """The photo's pixels as displayed (EXIF orientation applied), BGR, and its lens."""

    pixels: np.ndarray
    focal_35mm: float | None


def read_search_copy(path: Path) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo as displayed (EXIF orientation applied), grey and reduced
    ``SEARCH_REDUCTION`` times, with its displayed full size (width, height).

    A JPEG is decoded reduced in the DCT domain (``Image.draft``: luma only, a
    quarter of the samples), several times cheaper than a full decode; other
    formats are decoded whole and reduced. Either way a pixel is the mean of a
    square of full-resolution pixels, as ``marker.search_copy`` makes it (an
    odd side turned by the orientation moves the copy by under a full pixel,
    which the corners' refinement absorbs). The copy inspection decoded for
    this file is taken rather than decoded again (``photo.gray_copy``).
    """
    try:
        copy = gray_copy(path, reduction=SEARCH_REDUCTION)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise MeasurementRefused(f"the photo cannot be read: {error}") from None
    return copy.pixels, copy.full_size


def read_displayed(path: Path) -> DisplayedPhoto:
    """Decode ``path`` and apply its EXIF orientation, as a viewer (and the DICOM
    photo, whose pixels are turned before wrapping) shows it."""
    register_heif()
    try:
        with Image.open(path) as opened:
            exif = opened.getexif()
            focal = exif.get_ifd(ExifTags.IFD.Exif).get(_FOCAL_35MM)
            upright = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise MeasurementRefused(f"the photo cannot be read: {error}") from None
    pixels = cv2.cvtColor(np.asarray(upright), cv2.COLOR_RGB2BGR)
    focal_35mm = float(focal) if isinstance(focal, int | float) and focal > 0 else None
    return DisplayedPhoto(pixels=pixels, focal_35mm=focal_35mm)


def measure_pixels(
    pixels: np.ndarray,
    *,
    outline: object | None = None,
    seed: tuple[float, float] | None = None,
    marker_mm: float = DEFAULT_MARKER_MM,
    focal_35mm: float | None = None,
) -> WoundMeasurement:
    """Measure the wound in displayed BGR pixels.

    With ``outline`` (points ``[[x, y], ...]``) that outline is measured
    (``method`` ``outline``); without, the wound is outlined automatically from
    ``seed`` (default: the photo's centre; ``method`` ``auto``). Raises
    ``MeasurementRefused`` with a one-line reason.
    """
    _check_marker_mm(marker_mm)
    markers = find_markers(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY))
    return _measured(
        pixels, markers, outline=outline, seed=seed, marker_mm=marker_mm, focal_35mm=focal_35mm
    )


def measure_photo(
    path: Path,
    *,
    outline: object | None = None,
    seed: tuple[float, float] | None = None,
    marker_mm: float = DEFAULT_MARKER_MM,
) -> WoundMeasurement:
    """``measure_pixels`` of the photo file at ``path``, as it is displayed.

    The marker is sought on a reduced decode (``read_search_copy``); a photo
    without one is refused before it is decoded in full.
    """
    _check_marker_mm(marker_mm)
    path = Path(path)
    search, (width, height) = read_search_copy(path)
    if outline is not None:
        # A bad outline is refused before a missing marker, as measure_pixels does.
        checked_outline(outline, width=width, height=height)
    sightings = sight_markers(search)
    require_markers(sightings)
    photo = read_displayed(path)
    markers = refined_markers(cv2.cvtColor(photo.pixels, cv2.COLOR_BGR2GRAY), sightings)
    return _measured(
        photo.pixels,
        markers,
        outline=outline,
        seed=seed,
        marker_mm=marker_mm,
        focal_35mm=photo.focal_35mm,
    )


def _check_marker_mm(marker_mm: float) -> None:
    if not (math.isfinite(marker_mm) and marker_mm > 0):
        raise MeasurementRefused(
            f"the marker size must be a positive number of mm, not {marker_mm}"
        )


def _measured(
    pixels: np.ndarray,
    markers: list[Marker],
    *,
    outline: object | None,
    seed: tuple[float, float] | None,
    marker_mm: float,
    focal_35mm: float | None,
) -> WoundMeasurement:
    height, width = pixels.shape[:2]
    if outline is not None:
        points = checked_outline(outline, width=width, height=height)
        method: Method = "outline"
        near = points.mean(axis=0)
    else:
        centre = seed if seed is not None else (width / 2, height / 2)
        near = np.asarray(centre, dtype=np.float64)
    marker, homography = calibration_marker(markers, near=near, marker_mm=marker_mm)
    angle = view_angle_deg(
        homography, at=marker.centre, width=width, height=height, focal_35mm=focal_35mm
    )
    check_view(angle)
    if outline is None:
        found = auto_outline(pixels, seed=(float(near[0]), float(near[1])), markers=markers)
        points = checked_outline(found, width=width, height=height)
        method = "auto"
    return WoundMeasurement(
        size=plane_size(points, homography),
        method=method,
        marker=marker,
        marker_mm=marker_mm,
        outline=points,
        view_angle_deg=angle,
        width=width,
        height=height,
    )
