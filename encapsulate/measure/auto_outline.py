"""The automatic outline: the region around a seed point that is not skin.

Wounds are not one colour (red granulation, yellow slough, dark eschar), but
all of them differ from the skin around them. So the skin's colour is
modelled, first from the whole photo (mostly skin), then from a ring around
the region found so far, in CIE L*a*b* with lightness weighted down (shading
matters less than hue); a pixel belongs to the wound when its distance from
the skin's colour is over half-way to the wound's less distinct parts (the
40th percentile of the region's distances), where a blurred edge between
them lies. The connected part overlapping the previous region is kept, its
holes filled, three times over. Runs on a copy at most ``WORK_SIDE`` pixels
long; the outline is scaled back to the photo.
"""

from __future__ import annotations

import cv2
import numpy as np

from encapsulate.measure.marker import Marker
from encapsulate.measure.refusal import MeasurementRefused

WORK_SIDE = 1024
LIGHTNESS_WEIGHT = 0.5
ROUNDS = 3
INSIDE_QUANTILE = 0.4
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


def _component_over(mask: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """The connected part of ``mask`` that overlaps ``previous`` most, holes filled."""
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    overlap = np.bincount(labels[previous & mask].ravel(), minlength=1)
    overlap[0] = 0
    if not overlap.any():
        return np.zeros_like(mask)
    region = labels == int(np.argmax(overlap))
    # Fill holes (slough or a reflection inside the wound): the outer contour, filled.
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
    region = disk.astype(bool)
    # The skin's colour: first the photo's (mostly skin), then a ring around the region.
    skin_colour = np.median(lab[~excluded], axis=0)
    ring_width = max(5, round(0.03 * min(rows, cols)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_width + 1,) * 2)
    ring = ~region & ~excluded
    for round_ in range(ROUNDS):
        if round_:
            ring = cv2.dilate(region.astype(np.uint8), kernel).astype(bool) & ~region & ~excluded
            if ring.any():
                skin_colour = np.median(lab[ring], axis=0)
        away = np.linalg.norm(lab - skin_colour, axis=2)
        # Half-way between the skin and the wound's less distinct parts (slough
        # beside granulation), where a blurred edge between them lies.
        inside = float(np.quantile(away[region], INSIDE_QUANTILE))
        outside = float(np.median(away[ring]))
        if inside - outside < MIN_CONTRAST:
            raise MeasurementRefused(
                "nothing at the chosen point stands out from the skin: trace the wound"
            )
        candidate = cv2.morphologyEx(
            ((away > (inside + outside) / 2) & ~excluded).astype(np.uint8),
            cv2.MORPH_OPEN,
            np.ones((3, 3), np.uint8),
        ).astype(bool)
        region = _component_over(candidate, region)
        if not region.any():
            raise MeasurementRefused(
                "nothing at the chosen point stands out from the skin: trace the wound"
            )
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
