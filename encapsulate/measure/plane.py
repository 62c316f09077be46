"""Geometry on the skin's plane: the outline mapped through the marker's homography.

The homography maps displayed pixels to millimetres on the plane the sticker
lies in, so perspective is corrected point by point (a photo 30 degrees off
the perpendicular measures what a straight one does), not by one scale.
Straight edges stay straight under a homography, so a polygon's plane
outline is exact and its area, perimeter and extents follow directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from encapsulate.measure.refusal import MeasurementRefused

# Beyond this angle between the line of sight and the plane's normal the
# marker is foreshortened to a sliver and its homography is not trusted.
MAX_VIEW_ANGLE_DEG = 60.0
# A phone's main camera: a 26 mm-equivalent lens (35 mm film: 43.27 mm diagonal).
DEFAULT_FOCAL_35MM = 26.0
FILM_DIAGONAL_MM = 43.27


@dataclass(frozen=True)
class PlaneSize:
    area_cm2: float
    length_cm: float
    width_cm: float
    perimeter_cm: float
    mm_per_px: float


def to_plane(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Displayed pixel points (n, 2) in millimetres on the plane; refuses a point
    on the far side of the plane's horizon."""
    homogeneous = np.column_stack([points, np.ones(len(points))]) @ homography.T
    depth = homogeneous[:, 2]
    if not (np.all(depth > 1e-12) or np.all(depth < -1e-12)):
        raise MeasurementRefused(
            "the outline reaches the horizon of the marker's plane: the view is too oblique"
        )
    return homogeneous[:, :2] / homogeneous[:, 2:3]


def view_angle_deg(
    homography: np.ndarray, *, at: np.ndarray, width: int, height: int, focal_35mm: float | None
) -> float:
    """The angle between the line of sight to ``at`` and the plane's normal.

    The camera is a pinhole with square pixels and its principal point at the
    photo's centre; the focal length comes from EXIF FocalLengthIn35mmFilm or
    is a phone's main camera. Only the refusal depends on it, not the sizes.
    """
    diagonal = math.hypot(width, height)
    focal = (focal_35mm or DEFAULT_FOCAL_35MM) / FILM_DIAGONAL_MM * diagonal
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    plane_to_camera = np.linalg.solve(camera, np.linalg.inv(homography))
    normal = np.cross(plane_to_camera[:, 0], plane_to_camera[:, 1])
    sight = np.linalg.solve(camera, np.array([at[0], at[1], 1.0]))
    cosine = abs(float(normal @ sight)) / (np.linalg.norm(normal) * np.linalg.norm(sight))
    return math.degrees(math.acos(min(1.0, cosine)))


def check_view(angle_deg: float) -> None:
    if angle_deg > MAX_VIEW_ANGLE_DEG:
        raise MeasurementRefused(
            f"the photo is taken {angle_deg:.0f} degrees off the perpendicular, beyond "
            f"{MAX_VIEW_ANGLE_DEG:.0f}: take it from straighter above the wound"
        )


def _segments_cross(points: np.ndarray) -> bool:
    """Whether two non-adjacent edges of the closed polygon ``points`` meet."""
    a = points
    b = np.roll(points, -1, axis=0)
    n = len(points)

    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )

    for i in range(n - 2):
        j = np.arange(i + 2, n if i > 0 else n - 1)
        if len(j) == 0:
            continue
        p, q = a[i], b[i]
        r, s = a[j], b[j]
        o1, o2 = orient(p, q, r), orient(p, q, s)
        o3, o4 = orient(r, s, p), orient(r, s, q)
        cross = (o1 * o2 <= 0) & (o3 * o4 <= 0)
        collinear = (o1 == 0) & (o2 == 0)
        if np.any(collinear):
            # Collinear edges meet only if their extents overlap.
            lo, hi = np.minimum(p, q), np.maximum(p, q)
            overlap = np.all((np.maximum(r, s) >= lo) & (np.minimum(r, s) <= hi), axis=-1)
            cross = np.where(collinear, overlap, cross)
        if np.any(cross):
            return True
    return False


def checked_outline(points: object, *, width: int, height: int) -> np.ndarray:
    """The outline as an (n, 2) float array, closed implicitly; refuses one that has
    fewer than 3 points, lies partly outside the photo or crosses itself."""
    try:
        outline = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise MeasurementRefused("the outline must be a list of [x, y] numbers") from None
    if outline.ndim != 2 or outline.shape[1] != 2 or not np.all(np.isfinite(outline)):
        raise MeasurementRefused("the outline must be a list of [x, y] numbers")
    keep = np.any(np.abs(np.diff(outline, axis=0, append=outline[:1])) > 1e-9, axis=1)
    outline = outline[keep]
    if len(outline) < 3:
        raise MeasurementRefused("the outline needs at least 3 distinct points")
    inside = (
        (outline[:, 0] >= 0)
        & (outline[:, 0] <= width)
        & (outline[:, 1] >= 0)
        & (outline[:, 1] <= height)
    )
    if not np.all(inside):
        raise MeasurementRefused(
            f"{int(np.sum(~inside))} outline point(s) lie outside the {width}x{height} photo"
        )
    if _segments_cross(outline):
        raise MeasurementRefused("the outline crosses itself: trace the wound's edge once around")
    if abs(_shoelace(outline)) < 1e-6:
        raise MeasurementRefused("the outline encloses no area")
    return outline


def _shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _extents(plane: np.ndarray) -> tuple[float, float]:
    """Longest extent, and the longest extent perpendicular to it (mm)."""
    hull = plane[cv2.convexHull(plane.astype(np.float32), returnPoints=False).ravel()]
    differences = hull[:, None, :] - hull[None, :, :]
    distances = np.hypot(differences[..., 0], differences[..., 1])
    i, j = np.unravel_index(int(np.argmax(distances)), distances.shape)
    length = float(distances[i, j])
    if length == 0:
        return 0.0, 0.0
    axis = (hull[j] - hull[i]) / length
    across = hull @ np.array([-axis[1], axis[0]])
    return length, float(across.max() - across.min())


def mm_per_px_at(point: np.ndarray, homography: np.ndarray) -> float:
    """The local scale of the plane at a displayed pixel point (square root of the
    Jacobian's determinant)."""
    step = 0.5
    probe = np.vstack([point, point + np.array([step, 0.0]), point + np.array([0.0, step])])
    mapped = to_plane(probe, homography)
    jacobian = np.column_stack([mapped[1] - mapped[0], mapped[2] - mapped[0]]) / step
    return math.sqrt(abs(float(np.linalg.det(jacobian))))


def plane_size(outline: np.ndarray, homography: np.ndarray) -> PlaneSize:
    """Area, length, width and perimeter of the outline on the plane, and the scale at
    its centroid."""
    plane = to_plane(outline, homography)
    edges = np.roll(plane, -1, axis=0) - plane
    length, width = _extents(plane)
    moments = cv2.moments(outline.astype(np.float32))
    centre = (
        np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]])
        if moments["m00"]
        else outline.mean(axis=0)
    )
    return PlaneSize(
        area_cm2=abs(_shoelace(plane)) / 100.0,
        length_cm=length / 10.0,
        width_cm=width / 10.0,
        perimeter_cm=float(np.sum(np.hypot(edges[:, 0], edges[:, 1]))) / 10.0,
        mm_per_px=mm_per_px_at(centre, homography),
    )
