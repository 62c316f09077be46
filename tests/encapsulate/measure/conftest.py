"""Generated scenes shared by the measurement tests (rendered once per session)."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from tests.encapsulate.measure.scenes import Scene, render

SMALL = {"width": 800, "height": 600, "distance_mm": 170.0}


@cache
def scene(**kwargs: object) -> Scene:
    return render(**{**SMALL, **kwargs})


def bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def area_error(measured: float, truth: float) -> float:
    return abs(measured / truth - 1)
