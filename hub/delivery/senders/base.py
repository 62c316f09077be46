"""What every sender shares: the receipt, the contract, and reading what is sent.

A sender delivers one capture to one destination and returns a `Receipt`, or
raises `DeliveryError` saying whether a later attempt can help.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from hub.delivery.errors import DeliveryError

# Failure Reason (0008,1197) values: PS3.18 Table I.2-2 / PS3.4 Annex B.2.3.
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA900: "data set does not match SOP class",
    0xC000: "cannot understand",
    0xC122: "transfer syntax not supported",
}


@dataclass(frozen=True)
class Receipt:
    """What the destination acknowledged (for STOW-RS, PS3.18 10.5.3)."""

    stored_sop_instance_uids: tuple[str, ...]
    retrieve_url: str | None


def read_instance(path: Path, *, stop_before_pixels: bool = False) -> pydicom.Dataset:
    """Read a PS3.10 file to send; a file that cannot be sent is a permanent error."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError as exc:
        raise DeliveryError(f"{path} is not a DICOM PS3.10 file", transient=False) from exc
    except OSError as exc:
        raise DeliveryError(f"cannot read {path}: {exc.strerror or exc}", transient=False) from exc
    if "SOPInstanceUID" not in ds:
        raise DeliveryError(f"{path} has no SOP Instance UID", transient=False)
    return ds


def failure_reason(code: int | None) -> str:
    if code is None:
        return "no failure reason given"
    meaning = FAILURE_REASONS.get(code)
    if meaning is None:
        meaning = {0xA7: "out of resources", 0xC0: "cannot understand"}.get(
            code >> 8, "unknown reason"
        )
    return f"0x{code:04X} {meaning}"
