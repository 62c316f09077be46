"""What `wrap` hands back for each file it wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset


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

    @classmethod
    def of(cls, dataset: Dataset, path: Path, *, derived: bool) -> WrittenInstance:
        """What was written at `path`, as `dataset` says it."""
        return cls(
            path=path,
            sop_class_uid=str(dataset.SOPClassUID),
            sop_instance_uid=str(dataset.SOPInstanceUID),
            series_instance_uid=str(dataset.SeriesInstanceUID),
            study_instance_uid=str(dataset.StudyInstanceUID),
            transfer_syntax_uid=str(dataset.file_meta.TransferSyntaxUID),
            derived=derived,
        )
