"""A device's own DICOM export, kept as is but for the patient and order it belongs to.

A POCUS probe or another modality exports PS3.10 files that already are the
right object; re-wrapping them would lose acquisition attributes. The hub
only reconciles identity to the capture context, as an importer does (IHE
RAD Import Reconciliation Workflow), and records what it changed in the
Original Attributes Sequence (PS3.3 C.12.1.1.9).

Decisions:

- Pixel Data, the transfer syntax and every acquisition attribute are
  untouched; Patient Name / ID / Issuer / Birth Date / Sex, Accession Number
  and its issuer, Admission ID and its issuer and the Request Attributes
  Sequence are set from the context (``dicom.modules`` semantics).
- UIDs: the device's SOP Instance and Series Instance UIDs are kept (the
  instance is the device's; minting new ones would duplicate it wherever the
  device also sent it). Its Study Instance UID is kept too, unless the order
  names one: then the order's wins, as the study is the order's. The hub's
  minted ``identity`` is therefore not used for UIDs; the WrittenInstance
  reports the UIDs actually written, and they are stable across retries.
- Refused, with a one-line reason: a DICOMDIR (a media index, not an
  instance), SOP classes other than the image and document classes of the
  capture IODs (the hub cannot vouch for what it would forward), files
  without a PS3.10 preamble and File Meta Information (never read with
  ``force``: such a file's encoding is a guess), and files without pixel
  data for an image class.
- Reason for the modification is COERCE (C.12.1.1.9.2): the values are
  replaced to match the hub's patient and order, not because they were wrong.
  Attributes the device had not set are recorded with an empty value, as
  dcm4che does, so the item lists every attribute the hub touched.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pydicom
from pydicom import uid
from pydicom.dataset import Dataset, FileDataset
from pydicom.encaps import generate_fragments
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence

from encapsulate.context.capture import CaptureContext
from encapsulate.dicom.modules import (
    PROCESSING_EQUIPMENT,
    add_patient,
    code_item,
    dt,
    issuer_sequence,
    request_attributes,
)
from encapsulate.dicom.output_file import write_atomically
from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media.info import MediaInfo
from encapsulate.value_rules import needs_unicode
from encapsulate.written import WrittenInstance

MIME_TYPE = "application/dicom"
MEDIA_STORAGE_DIRECTORY = uid.MediaStorageDirectoryStorage
# The storage SOP classes of the capture IODs (STANDARDS.md table), their
# single- and multi-frame Secondary Capture family and Encapsulated PDF.
ACCEPTED_SOP_CLASSES = {
    uid.UltrasoundImageStorage: "Ultrasound Image",
    uid.UltrasoundMultiFrameImageStorage: "Ultrasound Multi-frame Image",
    uid.SecondaryCaptureImageStorage: "Secondary Capture Image",
    uid.MultiFrameSingleBitSecondaryCaptureImageStorage: (
        "Multi-frame Single Bit Secondary Capture Image"
    ),
    uid.MultiFrameGrayscaleByteSecondaryCaptureImageStorage: (
        "Multi-frame Grayscale Byte Secondary Capture Image"
    ),
    uid.MultiFrameGrayscaleWordSecondaryCaptureImageStorage: (
        "Multi-frame Grayscale Word Secondary Capture Image"
    ),
    uid.MultiFrameTrueColorSecondaryCaptureImageStorage: (
        "Multi-frame True Color Secondary Capture Image"
    ),
    uid.VLEndoscopicImageStorage: "VL Endoscopic Image",
    uid.VideoEndoscopicImageStorage: "Video Endoscopic Image",
    uid.VLPhotographicImageStorage: "VL Photographic Image",
    uid.VideoPhotographicImageStorage: "Video Photographic Image",
    uid.OphthalmicPhotography8BitImageStorage: "Ophthalmic Photography 8 Bit Image",
    uid.DermoscopicPhotographyImageStorage: "Dermoscopic Photography Image",
    uid.EncapsulatedPDFStorage: "Encapsulated PDF",
}
DOCUMENT_SOP_CLASSES = {uid.EncapsulatedPDFStorage}
# C.12.1.1.9.2 Reason for the Attribute Modification.
COERCE = "COERCE"
# The identity attributes the hub reconciles (keywords), in dataset order.
RECONCILED = (
    "SpecificCharacterSet",
    "AccessionNumber",
    "IssuerOfAccessionNumberSequence",
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "AdmissionID",
    "IssuerOfAdmissionIDSequence",
    "RequestAttributesSequence",
)


def read_device_dicom(path: Path) -> FileDataset:
    """Read and vet a PS3.10 file; raise ``MediaError`` / ``UnsupportedMediaError``."""
    try:
        ds = pydicom.dcmread(path, force=False)
    except InvalidDicomError:
        raise MediaError(
            "the file is not a DICOM Part 10 file (no preamble and DICM prefix)"
        ) from None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise MediaError(f"the DICOM file is damaged and cannot be read ({error})") from None
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta or "MediaStorageSOPClassUID" not in meta:
        raise MediaError("the DICOM file has no File Meta Information (PS3.10 7.1)")
    sop_class = str(meta.MediaStorageSOPClassUID)
    if sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        raise UnsupportedMediaError(
            "the file is a DICOMDIR (an index of a CD or USB stick); upload the images it lists"
        )
    if sop_class not in ACCEPTED_SOP_CLASSES:
        raise UnsupportedMediaError(
            f"DICOM objects of SOP class {sop_class} are not forwarded by the hub; "
            "only ultrasound, photographic, secondary capture and PDF objects are"
        )
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        raise MediaError("the DICOM file has no SOP Class or SOP Instance UID")
    if str(ds.SOPClassUID) != sop_class:
        raise MediaError("the DICOM file's SOP Class UID differs from its File Meta Information")
    if sop_class not in DOCUMENT_SOP_CLASSES:
        _check_pixel_data(ds)
    return ds


def _check_pixel_data(ds: FileDataset) -> None:
    """Refuse missing or truncated Pixel Data: pydicom reads a cut value without complaint."""
    if "PixelData" not in ds:
        raise MediaError("the DICOM image has no pixel data")
    data = ds.PixelData
    truncated = MediaError("the DICOM file is truncated: its pixel data is incomplete")
    if ds.file_meta.TransferSyntaxUID.is_encapsulated:
        try:
            fragments = sum(1 for _ in generate_fragments(data))
        except (ValueError, EOFError):
            raise truncated from None
        if fragments == 0:
            raise truncated
        return
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        bits = int(ds.Rows) * int(ds.Columns) * int(ds.SamplesPerPixel) * int(ds.BitsAllocated)
    except (AttributeError, TypeError, ValueError):
        raise MediaError(
            "the DICOM image lacks its Image Pixel attributes (PS3.3 C.7.6.3)"
        ) from None
    if len(data) < (bits * frames + 7) // 8:
        raise truncated


def inspect_dicom(path: Path) -> MediaInfo:
    ds = read_device_dicom(path)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    return MediaInfo(
        kind="dicom",
        mime_type=MIME_TYPE,
        rows=rows,
        columns=columns,
        orientation=1,
        upright_rows=rows,
        upright_columns=columns,
        captured_at=None,
        make=str(ds.get("Manufacturer", "")) or None,
        model=str(ds.get("ManufacturerModelName", "")) or None,
        private_metadata=(),
        codec=ACCEPTED_SOP_CLASSES[str(ds.SOPClassUID)],
        container=str(ds.file_meta.TransferSyntaxUID),
        frame_count=frames,
    )


def _previous_values(ds: Dataset) -> Dataset:
    """The reconciled attributes as they are now; absent ones with an empty value."""
    old = Dataset()
    for keyword in RECONCILED:
        if keyword in ds:
            # A copy: pydicom updates an element's value in place on assignment.
            old[keyword] = copy.deepcopy(ds[keyword])
        else:
            setattr(old, keyword, Sequence() if keyword.endswith("Sequence") else None)
    return old


def _coerce_identity(ds: Dataset, context: CaptureContext, producer: Producer) -> None:
    """Set patient and order identity from the context (``dicom.modules`` semantics)."""
    order, encounter = context.order, context.encounter
    # The device's qualifiers describe the device's patient ID, not the hub's.
    if "IssuerOfPatientIDQualifiersSequence" in ds:
        del ds.IssuerOfPatientIDQualifiersSequence
    add_patient(ds, context, producer)
    if not context.patient.issuer and "IssuerOfPatientID" in ds:
        del ds.IssuerOfPatientID  # the device's issuer does not qualify the hub's ID
    if order and order.study_instance_uid:
        ds.StudyInstanceUID = order.study_instance_uid
    ds.AccessionNumber = (order.accession_number or "") if order else ""
    if order and order.accession_number and order.issuer:
        ds.IssuerOfAccessionNumberSequence = issuer_sequence(
            order.issuer, producer.issuer_oid(order.issuer)
        )
    elif "IssuerOfAccessionNumberSequence" in ds:
        del ds.IssuerOfAccessionNumberSequence
    if encounter is not None:
        ds.AdmissionID = encounter.id
        if encounter.issuer:
            ds.IssuerOfAdmissionIDSequence = issuer_sequence(
                encounter.issuer, producer.issuer_oid(encounter.issuer)
            )
    if order is not None:
        ds.RequestAttributesSequence = request_attributes(
            order, str(ds.StudyInstanceUID), producer.issuer_oid(order.issuer)
        )


def _changed(old: Dataset, ds: Dataset) -> Dataset:
    """Only the attributes whose value the coercion changed."""
    modified = Dataset()
    for keyword in RECONCILED:
        before, after = old.get(keyword), ds.get(keyword)
        if before != after and not (before in (None, "") and after in (None, "")):
            modified[keyword] = old[keyword]
    return modified


def reconcile(
    ds: Dataset, *, context: CaptureContext, producer: Producer, modified_at: datetime
) -> Dataset:
    """Coerce ``ds``'s identity to ``context`` in place and record the change.

    Returns the Modified Attributes Sequence item (empty when nothing changed,
    in which case no Original Attributes item is added).
    """
    old = _previous_values(ds)
    texts = (context.patient.name, context.patient.id, context.patient.issuer)
    if needs_unicode(*texts) and ds.get("SpecificCharacterSet") != "ISO_IR 192":
        # Decode every text value with the old character set first, so that
        # pydicom re-encodes them all as UTF-8 on write.
        ds.decode()
        ds.SpecificCharacterSet = "ISO_IR 192"
    _coerce_identity(ds, context, producer)
    modified = _changed(old, ds)
    if len(modified) == 0:
        return modified

    # SOP Common (C.12.1): Original Attributes Sequence (C.12.1.1.9)
    item = Dataset()
    item.SourceOfPreviousValues = ""
    item.AttributeModificationDateTime = dt(modified_at)
    item.ModifyingSystem = producer.model_name
    item.ReasonForTheAttributeModification = COERCE
    item.ModifiedAttributesSequence = Sequence([modified])
    original = list(ds.get("OriginalAttributesSequence", []))
    ds.OriginalAttributesSequence = Sequence([*original, item])

    # Contributing Equipment Sequence: the device's items stay, the hub's is added.
    contributor = Dataset()
    contributor.PurposeOfReferenceCodeSequence = Sequence([code_item(*PROCESSING_EQUIPMENT)])
    contributor.Manufacturer = producer.manufacturer
    contributor.ManufacturerModelName = producer.model_name
    contributor.SoftwareVersions = producer.software_versions
    contributor.ContributionDateTime = dt(modified_at)
    contributor.ContributionDescription = "Reconciled patient and order identity"
    equipment = list(ds.get("ContributingEquipmentSequence", []))
    ds.ContributingEquipmentSequence = Sequence([*equipment, contributor])
    return modified


def wrap_dicom(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
    modified_at: datetime | None = None,
) -> list[WrittenInstance]:
    """The device's instance, reconciled, named ``<its SOP Instance UID>.dcm``.

    ``identity`` is not used: see the module docstring on UIDs.
    """
    del identity
    ds = read_device_dicom(path)
    reconcile(ds, context=context, producer=producer, modified_at=modified_at or datetime.now(UTC))
    sop_instance_uid = str(ds.SOPInstanceUID)
    target = write_atomically(ds, out_dir / f"{sop_instance_uid}.dcm")
    return [WrittenInstance.of(ds, target, derived=False)]
