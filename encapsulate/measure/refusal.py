"""Why a photo cannot be measured."""

from __future__ import annotations

from encapsulate.errors import EncapsulateError


class MeasurementRefused(EncapsulateError):
    """The photo holds no usable marker, or the outline or the view cannot be trusted.

    ``reason`` is one line for the nurse; the photo itself is still archived.
    """
