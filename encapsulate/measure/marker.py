"""The calibration sticker: an ArUco marker of OpenCV's DICT_4X4_50, found in a photo.

The printed black square has a known side (``DEFAULT_MARKER_MM``, 20 mm).
OpenCV's corners are the outer corners of that square, refined to sub-pixel
precision from its edges (``marker_edges``); both polarities are looked
for (black on white, and white on black, as a sticker printed in negative
for dark skin shows).
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


def find_markers(gray: np.ndarray) -> list[Marker]:
    """Every DICT_4X4_50 marker in an 8-bit grey image, any id, either polarity."""
    corners, ids, _rejected = _detector().detectMarkers(gray)
    if ids is None:
        return []
    # OpenCV puts pixel centres on integers; +0.5 moves to the corner origin.
    return [
        Marker(
            id=int(i),
            corners=refine_corners(gray, np.asarray(c, dtype=np.float64).reshape(4, 2)) + 0.5,
        )
        for c, i in zip(corners, ids.ravel(), strict=True)
    ]


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
    if not markers:
        raise MeasurementRefused(
            "no calibration marker (ArUco DICT_4X4_50) was found: place the sticker beside "
            "the wound, flat and whole in the photo"
        )
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
