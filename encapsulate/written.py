"""What `wrap` hands back for each file it wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WrittenInstance:
    """One DICOM file ``wrap`` wrote, and the UIDs the hub stores and sends."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    transfer_syntax_uid: str
    derived: bool
