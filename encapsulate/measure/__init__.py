"""Wound measurement from a photo with a calibration sticker (issue 13).

An ArUco marker (DICT_4X4_50, printed side known, 20 mm by default) lies on
the skin beside the wound; its homography maps the photo onto the skin's
plane, so the outline's area, length, width and perimeter are measured in
millimetres whatever the camera's tilt. See docs/wound-measurement.md.

The names below are imported on first use: OpenCV (about 25 MB) is loaded
only by a process that measures, as ``media.privacy`` does for faces.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from encapsulate.measure.marker import DEFAULT_MARKER_MM, DICTIONARY_NAME, Marker
    from encapsulate.measure.observation import wound_size_observation
    from encapsulate.measure.photo_measure import (
        WoundMeasurement,
        measure_photo,
        measure_pixels,
        read_displayed,
    )
    from encapsulate.measure.plane import PlaneSize
    from encapsulate.measure.refusal import MeasurementRefused

_WHERE = {
    "DEFAULT_MARKER_MM": "marker",
    "DICTIONARY_NAME": "marker",
    "Marker": "marker",
    "MeasurementRefused": "refusal",
    "PlaneSize": "plane",
    "WoundMeasurement": "photo_measure",
    "measure_photo": "photo_measure",
    "measure_pixels": "photo_measure",
    "read_displayed": "photo_measure",
    "wound_size_observation": "observation",
}
__all__ = [
    "DEFAULT_MARKER_MM",
    "DICTIONARY_NAME",
    "Marker",
    "MeasurementRefused",
    "PlaneSize",
    "WoundMeasurement",
    "measure_photo",
    "measure_pixels",
    "read_displayed",
    "wound_size_observation",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
