"""The one failure every sender reports."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery that did not happen.

    `transient` is True when the same request may succeed later (archive down,
    busy, slow); False when a person must change something first (credentials,
    URL, the data itself). `reason` is one line without secrets.
    """

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
