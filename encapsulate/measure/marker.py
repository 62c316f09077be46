"""The calibration sticker: an ArUco marker of OpenCV's DICT_4X4_50, found in a photo.

The printed black square has a known side (``DEFAULT_MARKER_MM``, 20 mm).
OpenCV's corners are the outer corners of that square, refined to sub-pixel
precision from its edges (``marker_edges``); both polarities are looked
for (black on white, and white on black, as a sticker printed in negative
for dark skin shows).

The search runs on a copy reduced ``SEARCH_REDUCTION`` times (a photo file's
is a DCT-domain reduced decode, ``photo_measure.read_search_copy``): most
wound photos hold no marker, and the search at full resolution cost a
12 MP photo 0.5 CPU-s. Only a marker seen there has its corners refined,
on the full-resolution image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from encapsulate.measure.marker_edges import refine_corners
from encapsulate.measure.refusal import MeasurementRefused

DICTIONARY_NAME = "DICT_4X4_50"
DICTIONARY = cv2.aruco.DICT_4X4_50
DEFAULT_MARKER_MM = 20.0
# Below this the corners' sub-pixel error (about 0.1 px) grows past 1 % of
# the side, 2 % of an area.
MIN_SIDE_PX = 40.0
# Two markers whose sides, measured in one plane, differ by more than this
# are of different printed sizes (or not on one plane).
SIZE_TOLERANCE = 0.15
# The smallest marker accepted (MIN_SIDE_PX) is 20 px a side on the search
# copy, over 3 px a cell, which ArUco still finds; a marker somewhat under
# it is still seen, so it is refused as too small rather than as missing.
SEARCH_REDUCTION = 2


@dataclass(frozen=True)
class Marker:
    """One detected marker: its id and corners (top-left, top-right, bottom-right,
    bottom-left of the printed square) in displayed pixel coordinates, whose origin
    is the top-left corner of the top-left pixel (as in DICOM SCOORD, PS3.3 C.18.6.1.1)."""

    id: int
    corners: np.ndarray  # shape (4, 2), float64

    @property
    def side_px(self) -> float:
        """The shortest side in pixels: what limits precision."""
        edges = np.roll(self.corners, -1, axis=0) - self.corners
        return float(np.min(np.hypot(edges[:, 0], edges[:, 1])))

    @property
    def centre(self) -> np.ndarray:
        return self.corners.mean(axis=0)

    def as_json(self) -> dict[str, object]:
        return {
            "dictionary": DICTIONARY_NAME,
            "id": self.id,
            "corners": [[round(float(x), 2), round(float(y), 2)] for x, y in self.corners],
        }


def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # OpenCV's own sub-pixel step can jump to an inner bit's corner on sharp
    # prints; the edge fit (marker_edges) starts from the contour's corners.
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    params.detectInvertedMarker = True
    dictionary = cv2.aruco.getPredefinedDictionary(DICTIONARY)
    return cv2.aruco.ArucoDetector(dictionary, params)


@dataclass(frozen=True)
class Sighting:
    """A marker seen on the search copy: its id and OpenCV's corners scaled to the
    full-resolution image (pixel centres on integers), not yet refined."""

    id: int
    corners: np.ndarray  # shape (4, 2), float64


def search_copy(gray: np.ndarray) -> np.ndarray:
    """``gray`` reduced ``SEARCH_REDUCTION`` times, each pixel the mean of a square
    of full-resolution pixels (what a JPEG's reduced decode gives too)."""
    height, width = gray.shape[:2]
    size = (width // SEARCH_REDUCTION, height // SEARCH_REDUCTION)
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def sight_markers(search: np.ndarray, *, reduction: int = SEARCH_REDUCTION) -> list[Sighting]:
    """Every DICT_4X4_50 marker (any id, either polarity) in ``search``, an 8-bit
    grey copy of the photo reduced ``reduction`` times."""
    corners, ids, _rejected = _detector().detectMarkers(search)
    if ids is None:
        return []
    # Pixel i of the copy covers full pixels i*r .. i*r + r - 1: its centre is at
    # (i + 0.5) * r - 0.5.
    return [
        Sighting(
            id=int(i),
            corners=(np.asarray(c, dtype=np.float64).reshape(4, 2) + 0.5) * reduction - 0.5,
        )
        for c, i in zip(corners, ids.ravel(), strict=True)
    ]


def refined_markers(gray: np.ndarray, sightings: list[Sighting]) -> list[Marker]:
    """``sightings`` with their corners refined on ``gray``, the full-resolution image."""
    # OpenCV puts pixel centres on integers; +0.5 moves to the corner origin.
    return [Marker(id=s.id, corners=refine_corners(gray, s.corners) + 0.5) for s in sightings]


def find_markers(gray: np.ndarray) -> list[Marker]:
    """Every DICT_4X4_50 marker in an 8-bit grey image, any id, either polarity:
    sought on its search copy, refined at full resolution."""
    return refined_markers(gray, sight_markers(search_copy(gray)))


def require_markers(found: list) -> None:
    """Refuses a photo in which no marker was seen."""
    if not found:
        raise MeasurementRefused(
            "no calibration marker (ArUco DICT_4X4_50) was found: place the sticker beside "
            "the wound, flat and whole in the photo"
        )


def plane_side_mm(marker: Marker, *, through: np.ndarray) -> float:
    """``marker``'s mean side in mm, measured in the plane of the homography ``through``."""
    points = cv2.perspectiveTransform(marker.corners.reshape(-1, 1, 2), through).reshape(4, 2)
    edges = np.roll(points, -1, axis=0) - points
    return float(np.mean(np.hypot(edges[:, 0], edges[:, 1])))


def calibration_marker(
    markers: list[Marker], *, near: np.ndarray, marker_mm: float
) -> tuple[Marker, np.ndarray]:
    """The marker to measure with (the one nearest ``near``) and its homography
    from displayed pixels to millimetres on the skin's plane.

    Refuses: no marker; a marker under ``MIN_SIDE_PX``; several markers that
    are not of one size.
    """
    require_markers(markers)
    chosen = min(markers, key=lambda m: float(np.hypot(*(m.centre - near))))
    if chosen.side_px < MIN_SIDE_PX:
        raise MeasurementRefused(
            f"the calibration marker is {chosen.side_px:.0f} px a side, under "
            f"{MIN_SIDE_PX:.0f} px: take the photo closer"
        )
    homography = marker_homography(chosen, marker_mm=marker_mm)
    for other in markers:
        if other is chosen:
            continue
        side = plane_side_mm(other, through=homography)
        if abs(side / marker_mm - 1) > SIZE_TOLERANCE:
            raise MeasurementRefused(
                f"{len(markers)} markers of different sizes ({marker_mm:g} mm and about "
                f"{side:.0f} mm): use stickers of one size, or only one"
            )
    return chosen, homography


def marker_homography(marker: Marker, *, marker_mm: float) -> np.ndarray:
    """The 3x3 homography from displayed pixels to mm, the marker's top-left corner at 0, 0."""
    plane = np.array([[0, 0], [marker_mm, 0], [marker_mm, marker_mm], [0, marker_mm]], float)
    return homography_from(marker.corners, plane)


def homography_from(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The homography taking four ``source`` points to ``target``, solved in float64
    (``cv2.getPerspectiveTransform`` works in float32, which costs 0.1 % at 4000 px)."""
    rows = []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    system = np.asarray(rows, dtype=np.float64)
    solution = np.linalg.solve(system[:, :8], system[:, 8])
    return np.append(solution, 1.0).reshape(3, 3)
