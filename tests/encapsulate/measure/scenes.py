"""Generated photos of a wound beside a calibration marker on skin, with known sizes.

The skin is a plane in millimetres, drawn as a texture (skin tone, blotches,
pores), with a 20 mm DICT_4X4_50 marker on its white sticker and an irregular
wound of exactly known outline. A pinhole camera (phone-like, 26 mm
equivalent) looks at the wound from ``distance_mm`` under a tilt, an azimuth
of the tilt and a roll; the photo is rendered by cv2.warpPerspective at twice
the size and reduced (anti-aliasing), then JPEG-compressed and noised.
Coordinates returned are displayed pixels with the corner origin, as
``encapsulate.measure`` uses.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

SKIN = {"light": (226, 178, 152), "dark": (92, 58, 42)}
WOUND_RGB = (165, 38, 44)
SLOUGH_RGB = (214, 190, 118)
ERYTHEMA_RGB = (205, 96, 92)
TEXTURE_PX_PER_MM = 6.0
TEXTURE_MM = (360.0, 300.0)  # width, height; the wound at the centre
SUPERSAMPLE = 2


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # RGB, as displayed
    outline: np.ndarray  # the wound's true outline in displayed pixels, (n, 2)
    area_cm2: float
    length_cm: float
    width_cm: float
    wound_centre: tuple[float, float]  # in displayed pixels
    marker_corners: np.ndarray  # (4, 2) in displayed pixels

    def jpeg(self, quality: int = 90, orientation: int = 1) -> bytes:
        """The photo as a JPEG stored so that, with EXIF ``orientation``, it displays
        as ``image``."""
        image = Image.fromarray(self.image)
        stored = image.transpose(_STORE[orientation]) if orientation != 1 else image
        exif = Image.Exif()
        exif[0x0112] = orientation
        out = io.BytesIO()
        stored.save(out, format="JPEG", quality=quality, exif=exif.tobytes())
        return out.getvalue()


# How to store a displayed image so that the EXIF orientation turns it back.
_STORE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def wound_polygon(radius_mm: float, seed: int, vertices: int = 720) -> np.ndarray:
    """An irregular, star-free wound outline in mm around (0, 0)."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radius = radius_mm * (
        1
        + 0.18 * np.sin(2 * theta + rng.uniform(0, 6.3))
        + 0.08 * np.sin(3 * theta + rng.uniform(0, 6.3))
        + 0.04 * np.sin(5 * theta + rng.uniform(0, 6.3))
    )
    return np.column_stack([radius * np.cos(theta) * 1.25, radius * np.sin(theta)])


def _shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _extents(points: np.ndarray) -> tuple[float, float]:
    d = points[:, None, :] - points[None, :, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    axis = (points[j] - points[i]) / dist[i, j]
    across = points @ np.array([-axis[1], axis[0]])
    return float(dist[i, j]), float(across.max() - across.min())


def _to_texture(points_mm: np.ndarray) -> np.ndarray:
    """mm (wound centre at 0, 0) to texture pixel coordinates, pixel centres on integers."""
    origin = np.array(TEXTURE_MM) / 2
    return (points_mm + origin) * TEXTURE_PX_PER_MM - 0.5


def _whole(value: float) -> int:
    if abs(value - round(value)) > 1e-6:
        raise ValueError(f"{value} texture pixels is not whole: choose sizes in 1/6 mm")
    return round(value)


def _pixel_edge(mm: float, axis: int) -> int:
    """The texture pixel whose left (top) edge is at ``mm``."""
    return _whole((mm + TEXTURE_MM[axis] / 2) * TEXTURE_PX_PER_MM)


def _coverage(polygon_mm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How much of each texture pixel the polygon covers (0..1)."""
    k = 4
    points = (_to_texture(polygon_mm) + 0.5) * k - 0.5
    x0, y0 = np.floor(points.min(axis=0) / k).astype(int) - 2
    x1, y1 = np.ceil(points.max(axis=0) / k).astype(int) + 2
    big = np.zeros(((y1 - y0) * k, (x1 - x0) * k), np.uint8)
    shifted = points - [x0 * k, y0 * k]
    cv2.fillPoly(big, [np.round(shifted * 256).astype(np.int32)], 255, cv2.LINE_8, 8)
    small = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    out = np.zeros(shape, np.float32)
    out[y0:y1, x0:x1] = small.astype(np.float32) / 255
    return out


def _texture(
    rng: np.random.Generator,
    skin: str,
    wound: np.ndarray,
    marker_centre_mm: tuple[float, float],
    marker_mm: float,
    marker_id: int,
    inverted: bool,
    bed: str,
) -> np.ndarray:
    w = round(TEXTURE_MM[0] * TEXTURE_PX_PER_MM)
    h = round(TEXTURE_MM[1] * TEXTURE_PX_PER_MM)
    base = np.array(SKIN[skin], np.float32)
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 25)
    blotches /= max(1e-6, float(np.abs(blotches).max()))
    pores = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2)
    pores /= max(1e-6, float(np.abs(pores).max()))
    texture = base[None, None, :] * (1 + 0.10 * blotches[..., None] + 0.07 * pores[..., None])
    # The wound: red, mottled, with a soft edge (about 0.3 mm); its mask is drawn at
    # 4x and reduced, so its area is the polygon's (LINE_AA would bloat it).
    alpha = _coverage(wound, (h, w))
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.3 * TEXTURE_PX_PER_MM)
    mottle = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3)
    mottle /= max(1e-6, float(np.abs(mottle).max()))
    wound_colour = np.array(WOUND_RGB, np.float32)[None, None, :] * (1 + 0.15 * mottle[..., None])
    if bed == "mixed":
        # Yellow slough over about a third of the bed, and a red rim of erythema
        # fading over 4 mm outside the edge: what makes real wounds hard to outline.
        patches = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 8)
        slough = np.clip((patches - np.quantile(patches, 0.66)) * 40, 0, 1)[..., None]
        wound_colour = wound_colour * (1 - slough) + np.float32(SLOUGH_RGB) * slough
        outside = cv2.GaussianBlur(alpha, (0, 0), 2.0 * TEXTURE_PX_PER_MM)
        rim = np.clip(outside * 2.5, 0, 1)[..., None] * 0.45
        texture = texture * (1 - rim) + np.float32(ERYTHEMA_RGB) * rim
    elif bed != "granulation":
        raise ValueError(f"bed is granulation or mixed, not {bed}")
    texture = texture * (1 - alpha[..., None]) + wound_colour * alpha[..., None]
    # The sticker: white (black when inverted), 1.5 x the marker; the marker's cells
    # fill whole texture pixels, so its printed size is exact.
    cells = 6
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    bits = cv2.aruco.generateImageMarker(dictionary, marker_id, cells).astype(np.float32)
    if inverted:
        bits = 255 - bits
    left, top = (
        _pixel_edge(marker_centre_mm[0] - marker_mm / 2, 0),
        _pixel_edge(marker_centre_mm[1] - marker_mm / 2, 1),
    )
    cell_px = _whole(marker_mm * TEXTURE_PX_PER_MM / cells)
    margin = 3 * cell_px // 2
    texture[
        top - margin : top + 6 * cell_px + margin, left - margin : left + 6 * cell_px + margin
    ] = 30.0 if inverted else 245.0
    cells_image = np.kron(bits, np.ones((cell_px, cell_px), np.float32))
    texture[top : top + 6 * cell_px, left : left + 6 * cell_px] = cells_image[..., None]
    return np.clip(texture, 0, 255).astype(np.uint8)


def _camera(
    width: int, height: int, tilt_deg: float, azimuth_deg: float, roll_deg: float, distance: float
) -> np.ndarray:
    """Homography from plane mm (wound centre at 0, 0) to displayed pixels (corner origin)."""
    focal = 26.0 / 43.27 * math.hypot(width, height)
    k = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])

    def rz(a: float) -> np.ndarray:
        c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    t = math.radians(tilt_deg)
    rx = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    rotation = rz(roll_deg) @ rx @ rz(azimuth_deg)
    translation = np.array([0.0, 0.0, distance])
    return k @ np.column_stack([rotation[:, 0], rotation[:, 1], translation])


def _project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.column_stack([points, np.ones(len(points))]) @ h.T
    return p[:, :2] / p[:, 2:3]


def render(
    *,
    width: int = 1200,
    height: int = 900,
    tilt_deg: float = 0.0,
    azimuth_deg: float = 0.0,
    roll_deg: float = 0.0,
    distance_mm: float = 260.0,
    skin: str = "light",
    inverted: bool = False,
    marker_mm: float = 20.0,
    marker_id: int = 7,
    marker_at_mm: tuple[float, float] = (38.0, 12.0),
    wound_radius_mm: float = 12.0,
    noise: float = 2.0,
    seed: int = 1,
    extra_marker: tuple[tuple[float, float], float] | None = None,
    bed: str = "granulation",
) -> Scene:
    """One photo; ``extra_marker`` is (centre mm, side mm) of a second sticker; ``bed``
    is ``granulation`` (red, mottled) or ``mixed`` (with slough and an erythema rim)."""
    rng = np.random.default_rng(seed)
    wound = wound_polygon(wound_radius_mm, seed)
    texture = _texture(rng, skin, wound, marker_at_mm, marker_mm, marker_id, inverted, bed)
    if extra_marker is not None:
        second = _texture(rng, skin, wound, extra_marker[0], extra_marker[1], 3, inverted, bed)
        cx, cy = (_to_texture(np.array([extra_marker[0]]))[0] + 0.5).round().astype(int)
        half = round(extra_marker[1] * 0.75 * TEXTURE_PX_PER_MM)
        ys, xs = slice(cy - half, cy + half), slice(cx - half, cx + half)
        texture[ys, xs] = second[ys, xs]
    h_mm = _camera(width, height, tilt_deg, azimuth_deg, roll_deg, distance_mm)
    # texture pixel centre -> mm -> supersampled displayed pixels (centres on integers).
    origin = np.array(TEXTURE_MM) / 2
    tex_to_mm = np.array(
        [
            [1 / TEXTURE_PX_PER_MM, 0, 0.5 / TEXTURE_PX_PER_MM - origin[0]],
            [0, 1 / TEXTURE_PX_PER_MM, 0.5 / TEXTURE_PX_PER_MM - origin[1]],
            [0, 0, 1],
        ]
    )
    ss = np.diag([SUPERSAMPLE, SUPERSAMPLE, 1.0])
    to_centre = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    warp = to_centre @ ss @ h_mm @ tex_to_mm
    big = cv2.warpPerspective(
        texture,
        warp,
        (width * SUPERSAMPLE, height * SUPERSAMPLE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    image = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    image += rng.normal(0, noise, image.shape).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    side = marker_mm / 2
    mx, my = marker_at_mm
    corners_mm = np.array(
        [
            [mx - side, my - side],
            [mx + side, my - side],
            [mx + side, my + side],
            [mx - side, my + side],
        ]
    )
    length, wide = _extents(wound)
    centre = _project(h_mm, np.zeros((1, 2)))[0]
    return Scene(
        image=image,
        outline=_project(h_mm, wound[::4]),
        area_cm2=_shoelace(wound[::4]) / 100,
        length_cm=length / 10,
        width_cm=wide / 10,
        wound_centre=(float(centre[0]), float(centre[1])),
        marker_corners=_project(h_mm, corners_mm),
    )


def compressed(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` after a JPEG round trip at ``quality``."""
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))
