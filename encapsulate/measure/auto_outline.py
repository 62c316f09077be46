"""The automatic outline: the region around a seed point whose colour stands out from
the skin around it.

A two-class colour split in CIE L*a*b* (lightness weighted down, so shading
matters less than hue), grown from the seed: the wound's colour is taken at
the seed, the skin's from a ring around the region found so far, and each
pixel near the wound goes to the nearer of the two, three times over. The
boundary thus falls half-way between wound and skin, where a blurred edge
really is. Runs on a copy at most ``WORK_SIDE`` pixels long; the outline is
scaled back to the photo.
"""

from __future__ import annotations

import cv2
import numpy as np

from encapsulate.measure.marker import Marker
from encapsulate.measure.refusal import MeasurementRefused

WORK_SIDE = 1024
LIGHTNESS_WEIGHT = 0.5
ROUNDS = 3
# Colour difference (weighted L*a*b*) below which wound and skin are not told apart.
MIN_CONTRAST = 6.0


def _lab(image_bgr: np.ndarray) -> np.ndarray:
    smooth = cv2.GaussianBlur(cv2.medianBlur(image_bgr, 5), (0, 0), 2.0)
    lab = cv2.cvtColor(smooth.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    lab[..., 0] *= LIGHTNESS_WEIGHT
    return lab


def _marker_mask(shape: tuple[int, int], markers: list[Marker], scale: float) -> np.ndarray:
    """The markers and their white quiet zone (a quarter of a side around them)."""
    mask = np.zeros(shape, np.uint8)
    for marker in markers:
        centre = marker.centre
        grown = centre + (marker.corners - centre) * 1.6
        cv2.fillConvexPoly(mask, np.round(grown * scale - 0.5).astype(np.int32), 1)
    return mask.astype(bool)


def _component_at(mask: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    label = labels[seed[1], seed[0]]
    if label == 0:
        return np.zeros_like(mask)
    region = labels == label
    # Fill holes: the outer contour, filled.
    contours, _ = cv2.findContours(
        region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


def auto_outline(
    image_bgr: np.ndarray, *, seed: tuple[float, float], markers: list[Marker]
) -> np.ndarray:
    """The wound's outline (n, 2) in displayed pixel coordinates, grown from ``seed``.

    Refuses when nothing at the seed stands out from the skin, or the region
    runs to the edge of the photo or over half of it.
    """
    height, width = image_bgr.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    lab = _lab(small)
    rows, cols = lab.shape[:2]
    excluded = _marker_mask((rows, cols), markers, scale)
    sx = int(np.clip(seed[0] * scale, 0, cols - 1))
    sy = int(np.clip(seed[1] * scale, 0, rows - 1))
    if excluded[sy, sx]:
        raise MeasurementRefused("the point to outline from lies on the marker")
    radius = max(3, round(0.01 * min(rows, cols)))
    disk = np.zeros((rows, cols), np.uint8)
    cv2.circle(disk, (sx, sy), radius, 1, thickness=-1)
    wound_colour = np.median(lab[disk.astype(bool)], axis=0)
    # The skin's colour: first the photo's (mostly skin), then a ring around the region.
    skin_colour = np.median(lab[~excluded], axis=0)
    if np.linalg.norm(skin_colour - wound_colour) < MIN_CONTRAST:
        raise MeasurementRefused(
            "nothing at the chosen point stands out from the skin: trace the wound"
        )
    ring_width = max(5, round(0.03 * min(rows, cols)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_width + 1,) * 2)
    region = disk.astype(bool)
    for round_ in range(ROUNDS):
        if round_:
            ring = cv2.dilate(region.astype(np.uint8), kernel).astype(bool) & ~region & ~excluded
            if ring.any():
                skin_colour = np.median(lab[ring], axis=0)
        nearer = np.linalg.norm(lab - wound_colour, axis=2) < np.linalg.norm(
            lab - skin_colour, axis=2
        )
        candidate = cv2.morphologyEx(
            (nearer & ~excluded).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
        ).astype(bool)
        region = _component_at(candidate, (sx, sy))
        if not region.any():
            raise MeasurementRefused(
                "nothing at the chosen point stands out from the skin: trace the wound"
            )
        wound_colour = np.median(lab[region], axis=0)
    if region.sum() > 0.5 * rows * cols or (
        region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()
    ):
        raise MeasurementRefused(
            "the automatic outline runs to the edge of the photo: trace the wound"
        )
    contours, _ = cv2.findContours(
        region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    contour = max(contours, key=cv2.contourArea)
    simple = cv2.approxPolyDP(contour, 0.7, closed=True).reshape(-1, 2).astype(np.float64)
    if len(simple) < 3:
        raise MeasurementRefused("the automatic outline is too small: trace the wound")
    # Pixel i's centre is at i + 0.5 with the corner origin.
    return (simple + 0.5) / scale
