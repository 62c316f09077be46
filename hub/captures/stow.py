"""STOW-RS intake: what a PS3.10 instance says about itself, as a capture context.

The API streams each part to a file and asks here what it is; the hub reads it
(pydicom, never the API) and answers with the instance's UIDs and the context
the capture is received with. A refusal carries the PS3.18 Failure Reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from encapsulate.dicom.reconcile import ACCEPTED_SOP_CLASSES

# PS3.18 10.5.3 / PS3.4 Annex GG: Failure Reason (0008,1197) values.
CANNOT_UNDERSTAND = 0xC000
SOP_CLASS_NOT_SUPPORTED = 0x0122
PROCESSING_FAILURE = 0x0110


class StowRefused(Exception):
    def __init__(
        self, reason: str, *, code: int, sop_class_uid: str = "", sop_instance_uid: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid


@dataclass(frozen=True)
class StowInstance:
    sop_class_uid: str
    sop_instance_uid: str
    context: dict


def stow_instance_read(path: Path, *, specialty: str | None) -> StowInstance:
    """The UIDs and capture context of one PS3.10 file; raises StowRefused."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        raise StowRefused("the part is not a DICOM PS3.10 file", code=CANNOT_UNDERSTAND) from None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise StowRefused(f"the part cannot be read ({error})", code=CANNOT_UNDERSTAND) from None
    meta = getattr(ds, "file_meta", None)
    sop_class = str(ds.get("SOPClassUID", "") or (meta and meta.get("MediaStorageSOPClassUID")))
    sop_instance = str(ds.get("SOPInstanceUID", ""))
    if meta is None or "TransferSyntaxUID" not in meta or not sop_class or not sop_instance:
        raise StowRefused(
            "the part has no File Meta Information or SOP UIDs (PS3.10 7.1)",
            code=CANNOT_UNDERSTAND,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance,
        )
    if sop_class not in ACCEPTED_SOP_CLASSES:
        raise StowRefused(
            f"SOP class {sop_class} is not taken by the hub",
            code=SOP_CLASS_NOT_SUPPORTED,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance,
        )
    patient_id = str(ds.get("PatientID", "") or "").strip()
    if not patient_id:
        raise StowRefused(
            "the instance has no Patient ID",
            code=CANNOT_UNDERSTAND,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance,
        )
    return StowInstance(
        sop_class_uid=sop_class,
        sop_instance_uid=sop_instance,
        context=_context_of(ds, patient_id=patient_id, specialty=specialty),
    )


def _text(ds: pydicom.Dataset, keyword: str) -> str | None:
    value = str(ds.get(keyword, "") or "").strip()
    return value or None


def _context_of(ds: pydicom.Dataset, *, patient_id: str, specialty: str | None) -> dict:
    patient: dict[str, object] = {"id": patient_id}
    if issuer := _text(ds, "IssuerOfPatientID"):
        patient["issuer"] = issuer
    if name := _text(ds, "PatientName"):
        patient["name"] = name
    birth = _text(ds, "PatientBirthDate")
    if birth and len(birth) == 8 and birth.isdigit():
        patient["birth_date"] = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    if (sex := _text(ds, "PatientSex")) in ("M", "F", "O"):
        patient["sex"] = sex
    context: dict[str, object] = {"patient": patient}
    if accession := _text(ds, "AccessionNumber"):
        context["order"] = {
            "accession_number": accession,
            "study_instance_uid": _text(ds, "StudyInstanceUID"),
        }
    if specialty:
        context["specialty"] = specialty
    if institution := _text(ds, "InstitutionName"):
        context["institution"] = institution
    if description := _text(ds, "SeriesDescription") or _text(ds, "StudyDescription"):
        context["description"] = description
    return context
