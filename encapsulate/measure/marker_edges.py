"""Sub-pixel corners of the marker from its four outer edges.

OpenCV's corner refinement looks at each corner alone; the marker's inner
bits touch some corners and not others, which biases it by a few tenths of
a pixel (half a per cent of area at 70 px a side). The printed square's
outer edges are long straight lines against the white quiet zone (a
homography keeps lines straight), so each is located along many short
profiles across it, at the half-way level between the black border and the
quiet zone (where a symmetric blur leaves an edge), fitted as a line, and
the corners are the lines' intersections.
"""

from __future__ import annotations

import cv2
import numpy as np

_STEP = 0.25
# Refined corners further than this (share of a side) from OpenCV's are not trusted.
_MAX_SHIFT = 0.15


def _edge_line(gray: np.ndarray, p0: np.ndarray, p1: np.ndarray, centre: np.ndarray):
    side = float(np.linalg.norm(p1 - p0))
    direction = (p1 - p0) / side
    normal = np.array([direction[1], -direction[0]])
    if normal @ ((p0 + p1) / 2 - centre) < 0:
        normal = -normal
    # Inside, less than the border cell (a sixth of the side); outside, most of the
    # quiet zone (at least a cell). OpenCV's corners may lie inside the square by a
    # good part of a cell when cells are wider than its threshold window.
    cell = side / 6
    offsets = np.arange(-max(2.0, 0.45 * cell), max(3.0, 0.8 * cell) + _STEP / 2, _STEP)
    along = np.linspace(0.12, 0.88, max(8, int(side / 2)))
    base = p0[None, :] + along[:, None] * (p1 - p0)[None, :]
    points = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
    profiles = cv2.remap(
        gray,
        points[..., 0].astype(np.float32),
        points[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
    )
    inner = profiles[:, :3].mean(axis=1, keepdims=True)
    outer = profiles[:, -3:].mean(axis=1, keepdims=True)
    level = profiles - (inner + outer) / 2
    edge_points = []
    for row, contrast, base_point in zip(level, (outer - inner).ravel(), base, strict=True):
        if abs(contrast) < 20:
            continue
        signs = np.sign(row)
        crossings = np.nonzero(signs[:-1] * signs[1:] < 0)[0]
        if len(crossings) == 0:
            continue
        i = crossings[np.argmin(np.abs(offsets[crossings]))]
        s = offsets[i] + _STEP * row[i] / (row[i] - row[i + 1])
        edge_points.append(base_point + s * normal)
    if len(edge_points) < 5:
        return None
    fitted = np.asarray(edge_points)
    mean = fitted.mean(axis=0)
    _, _, vt = np.linalg.svd(fitted - mean)
    return mean, vt[0]


def _intersection(a, b) -> np.ndarray | None:
    (p, d), (q, e) = a, b
    matrix = np.column_stack([d, -e])
    if abs(np.linalg.det(matrix)) < 1e-9:
        return None
    t = np.linalg.solve(matrix, q - p)
    return p + t[0] * d


def refine_corners(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """``corners`` (pixel centres on integers, OpenCV's order) moved to the
    intersections of the fitted outer edges, twice (the second pass profiles
    square to the first's lines); the input is kept where a fit fails."""
    image = gray.astype(np.float32)
    return _refined(image, _refined(image, corners))


def _refined(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    centre = corners.mean(axis=0)
    lines = [_edge_line(image, corners[k], corners[(k + 1) % 4], centre) for k in range(4)]
    refined = corners.copy()
    side = float(np.min(np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)))
    for k in range(4):
        before, after = lines[(k - 1) % 4], lines[k]
        if before is None or after is None:
            continue
        point = _intersection(before, after)
        if point is not None and np.linalg.norm(point - corners[k]) < _MAX_SHIFT * side:
            refined[k] = point
    return refined
