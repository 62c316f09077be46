"""Errors the hub can show to a person.

Every error carries ``reason``: one line that says what is wrong and, where it
helps, what to do about it. The hub records it as a permanent failure (a retry
cannot fix bad input), so the wording is for the person who made the capture.
"""

from __future__ import annotations


class EncapsulateError(Exception):
    """Base class: the input cannot be turned into DICOM as it stands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class ContextError(EncapsulateError):
    """The capture context (patient, order, body site, ...) is invalid."""


class MediaError(EncapsulateError):
    """The media file is empty, truncated, corrupt or not what it claims to be."""


class UnsupportedMediaError(MediaError):
    """The media file is well formed but not something the hub can wrap."""
