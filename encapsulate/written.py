"""What `wrap` hands back for each file it wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from encapsulate.dicom.output_file import WrittenFile


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
    # The file's sha256 as it was written (WrittenFile.sha256); None: read it again.
    sha256: str | None = None

    @classmethod
    def of(cls, dataset: Dataset, written: WrittenFile, *, derived: bool) -> WrittenInstance:
        """What was written, as `dataset` says it."""
        return cls(
            path=written.path,
            sha256=written.sha256,
            sop_class_uid=str(dataset.SOPClassUID),
            sop_instance_uid=str(dataset.SOPInstanceUID),
            series_instance_uid=str(dataset.SeriesInstanceUID),
            study_instance_uid=str(dataset.StudyInstanceUID),
            transfer_syntax_uid=str(dataset.file_meta.TransferSyntaxUID),
            derived=derived,
        )
