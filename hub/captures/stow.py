"""STOW-RS intake: what a PS3.10 instance says about itself, as a capture context.

The API streams each part to a file and asks here what it is; the hub reads it
(pydicom, never the API) and answers with the instance's UIDs and the context
the capture is received with. A refusal carries the PS3.18 Failure Reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from encapsulate.dicom.reconcile import ACCEPTED_SOP_CLASSES
from hub.captures.native_xml import NativeXmlInvalid, native_xml_to_json

# PS3.18 10.5.3 / PS3.4 Annex GG: Failure Reason (0008,1197) values.
CANNOT_UNDERSTAND = 0xC000
SOP_CLASS_NOT_SUPPORTED = 0x0122
PROCESSING_FAILURE = 0x0110
OUT_OF_RESOURCES = 0xA700
DUPLICATE_SOP_INSTANCE = 0x0111  # PS3.7 C.4.4: another instance under this UID
# PS3.18 Table I.2-2 has no code for an instance outside the study of the request's
# target (10.5.1.1.1, answered 409 per 10.5.3.1); implementation-specific, as
# dcm4chee's archive answers it.
STUDY_INSTANCE_UID_MISMATCH = 0xC409
# A receipt's refusal (its HTTP status, hub.captures.receive.CaptureRefused) as the
# status a DICOM client is answered with, by STOW-RS and by C-STORE alike.
REFUSAL_CODES = {
    400: CANNOT_UNDERSTAND,
    413: OUT_OF_RESOURCES,
    415: CANNOT_UNDERSTAND,
    422: DUPLICATE_SOP_INSTANCE,
}


def refusal_code(status: int) -> int:
    return REFUSAL_CODES.get(status, PROCESSING_FAILURE)


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
    study_instance_uid: str = ""


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
        study_instance_uid=str(ds.get("StudyInstanceUID", "") or ""),
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
    if body_site := _body_site(ds):
        context["body_site"] = body_site
    if specialty:
        context["specialty"] = specialty
    if institution := _text(ds, "InstitutionName"):
        context["institution"] = institution
    if description := _text(ds, "SeriesDescription") or _text(ds, "StudyDescription"):
        context["description"] = description
    return context


def _body_site(ds: pydicom.Dataset) -> dict | None:
    regions = ds.get("AnatomicRegionSequence") or []
    if not regions or not regions[0].get("CodeValue"):
        return None
    region = regions[0]
    scheme = str(region.get("CodingSchemeDesignator", "") or "SCT")
    site: dict[str, object] = {"code": f"{scheme}:{region.CodeValue}"}
    if meaning := _text(region, "CodeMeaning"):
        site["meaning"] = meaning
    if (laterality := _text(ds, "ImageLaterality")) in ("R", "L", "B", "U"):
        site["laterality"] = laterality
    return site


# IHE WIC: the metadata's SOP class says which kind of capture it is.
SPECIALTY_OF_SOP_CLASS = {
    "1.2.840.10008.5.1.4.1.1.77.1.1": "endoscopy",  # VL Endoscopic
    "1.2.840.10008.5.1.4.1.1.77.1.1.1": "endoscopy",  # Video Endoscopic
    "1.2.840.10008.5.1.4.1.1.77.1.5.1": "ophthalmology",  # Ophthalmic Photography 8 Bit
    "1.2.840.10008.5.1.4.1.1.77.1.7": "dermoscopy",  # Dermoscopic Photography
    "1.2.840.10008.5.1.4.1.1.6.1": "pocus",  # Ultrasound Image
    "1.2.840.10008.5.1.4.1.1.3.1": "pocus",  # Ultrasound Multi-frame
}
BULK_KEYWORDS = ("PixelData", "EncapsulatedDocument")


@dataclass(frozen=True)
class WicInstance:
    """One dataset of WIC metadata: its UIDs, where its media is, the context it gives."""

    sop_class_uid: str
    sop_instance_uid: str
    bulk_data_uri: str
    context: dict
    study_instance_uid: str = ""


class MetadataInvalid(Exception):
    """The metadata part is not a DICOM JSON array of datasets (PS3.18 F.2)."""


def wic_metadata_read(raw: bytes, *, specialty: str | None) -> list[WicInstance | StowRefused]:
    """Each dataset of a DICOM JSON metadata part, as a WicInstance or its refusal."""
    try:
        items = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise MetadataInvalid(f"the metadata is not JSON ({error})") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MetadataInvalid("the metadata is not a DICOM JSON array of datasets")
    return [_wic_instance(item, specialty=specialty) for item in items]


def _acquired(ds: pydicom.Dataset) -> datetime | None:
    """When the metadata says the media was taken, if it says so with its UTC offset:
    Acquisition DateTime, else Content Date and Time with Timezone Offset From UTC
    (PS3.3 C.12.1.1.8). A time without its zone is left out rather than guessed."""
    offset = _utc_offset(_text(ds, "TimezoneOffsetFromUTC"))
    if acquisition := _text(ds, "AcquisitionDateTime"):
        zone = _utc_offset(acquisition[-5:]) if len(acquisition) > 5 else None
        moment = _parse(acquisition[:-5] if zone else acquisition, "%Y%m%d%H%M%S")
        if moment is not None and (zone or offset) is not None:
            return moment.replace(tzinfo=zone or offset)
    day, time = _text(ds, "ContentDate"), _text(ds, "ContentTime")
    if day and time and offset is not None:
        moment = _parse(day + time, "%Y%m%d%H%M%S")
        if moment is not None:
            return moment.replace(tzinfo=offset)
    return None


def _parse(value: str, layout: str) -> datetime | None:
    # DA/TM/DT may stop after any component (PS3.5 6.2): as many two-letter
    # directives as the value has, %Y standing for its four digits.
    whole = value.split(".")[0]
    try:
        return datetime.strptime(whole, layout[: len(whole) - 2])
    except ValueError:
        return None


def _utc_offset(value: str | None) -> timezone | None:
    if not value or len(value) != 5 or value[0] not in "+-" or not value[1:].isdigit():
        return None
    minutes = int(value[1:3]) * 60 + int(value[3:])
    return timezone((1 if value[0] == "+" else -1) * timedelta(minutes=minutes))


def wic_xml_metadata_read(raw: bytes, *, specialty: str | None) -> WicInstance | StowRefused:
    """One `application/dicom+xml` metadata part (PS3.19 Native DICOM Model, one dataset)."""
    try:
        item = native_xml_to_json(raw)
    except NativeXmlInvalid as error:
        raise MetadataInvalid(str(error)) from None
    return _wic_instance(item, specialty=specialty)


def _wic_instance(item: dict, *, specialty: str | None) -> WicInstance | StowRefused:
    uris: list[str] = []

    def bulk(tag: str, vr: str, uri: str) -> bytes:
        uris.append(uri)
        return b""

    try:
        ds = pydicom.Dataset.from_json(item, bulk_data_uri_handler=bulk)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return StowRefused(f"the dataset cannot be read ({error})", code=CANNOT_UNDERSTAND)
    sop_class = str(ds.get("SOPClassUID", "") or "")
    sop_instance = str(ds.get("SOPInstanceUID", "") or "")

    def refused(reason: str, code: int = CANNOT_UNDERSTAND) -> StowRefused:
        return StowRefused(
            reason, code=code, sop_class_uid=sop_class, sop_instance_uid=sop_instance
        )

    if sop_class and sop_class not in ACCEPTED_SOP_CLASSES:
        return refused(f"SOP class {sop_class} is not taken by the hub", SOP_CLASS_NOT_SUPPORTED)
    if len(uris) != 1:
        return refused("the dataset needs exactly one BulkDataURI (its pixel data or document)")
    patient_id = _text(ds, "PatientID")
    if not patient_id:
        return refused("the dataset has no Patient ID")
    context = _context_of(
        ds, patient_id=patient_id, specialty=specialty or SPECIALTY_OF_SOP_CLASS.get(sop_class)
    )
    if (taken := _acquired(ds)) is not None:
        context["captured_at"] = taken.isoformat()
    return WicInstance(
        sop_class_uid=sop_class,
        sop_instance_uid=sop_instance,
        bulk_data_uri=uris[0],
        context=context,
        study_instance_uid=str(ds.get("StudyInstanceUID", "") or ""),
    )
