"""The VL Photographic Image IOD (PS3.3 A.32.4) for a camera JPEG.

Attributes are grouped under the name of the module (PS3.3 section) they
belong to. The output is byte-for-byte reproducible from the same inputs (no
creation timestamps), so a retried task re-sends an identical instance.
"""

from __future__ import annotations

from datetime import datetime

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import UID, JPEGBaseline8Bit, JPEGExtended12Bit

from encapsulate.context import CaptureContext
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media_info import MediaInfo
from encapsulate.photo import PixelStream
from encapsulate.value_rules import needs_unicode

VL_PHOTOGRAPHIC_IMAGE = UID("1.2.840.10008.5.1.4.1.1.77.1.4")
# PS3.5 A.4.1: process 1 (SOF0) is .50, process 2 & 4 (SOF1, 8-bit) is .51.
TRANSFER_SYNTAX = {"baseline": JPEGBaseline8Bit, "extended": JPEGExtended12Bit}
# PS3.16 CID 7005 Contributing Equipment Purposes of Reference.
_PROCESSING_EQUIPMENT = ("109102", "DCM", "Processing Equipment")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _issuer(local_id: str) -> Sequence:
    """HL7v2 Hierarchic Designator macro with a local namespace (PS3.3 10.14)."""
    item = Dataset()
    item.LocalNamespaceEntityID = local_id
    return Sequence([item])


def _da(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%d") if moment else ""


def _tm(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%H%M%S") + (f".{moment.microsecond:06d}" if moment.microsecond else "")


def _dt(moment: datetime) -> str:
    # DT keeps the UTC offset when known (PS3.5 6.2, DT).
    offset = moment.strftime("%z") if moment.utcoffset() is not None else ""
    return _da(moment) + _tm(moment) + offset


def _ratio(uncompressed: int, compressed: int) -> str:
    return f"{uncompressed / max(compressed, 1):.2f}"


def build_vl_photographic(
    *,
    pixels: PixelStream,
    info: MediaInfo,
    camera_stream_size: int,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
) -> Dataset:
    """A VL Photographic Image dataset, with file meta, holding ``pixels``."""
    frame = pixels.frame
    samples = len(frame.components)
    ts = TRANSFER_SYNTAX[frame.process]
    acquired = info.captured_at or context.captured_at
    patient, order, encounter, site = (
        context.patient,
        context.order,
        context.encounter,
        context.body_site,
    )

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = VL_PHOTOGRAPHIC_IMAGE
    meta.MediaStorageSOPInstanceUID = identity.sop_instance_uid
    meta.TransferSyntaxUID = ts
    ds = Dataset()
    ds.file_meta = meta

    # SOP Common (C.12.1)
    texts = [
        patient.id,
        patient.issuer,
        patient.name,
        context.operator,
        context.institution,
        context.department,
        context.description,
        info.make,
        info.model,
        site.meaning if site else None,
        encounter.id if encounter else None,
        encounter.issuer if encounter else None,
        *((order.accession_number, order.issuer, order.service_request) if order else ()),
    ]
    if needs_unicode(*texts):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = VL_PHOTOGRAPHIC_IMAGE
    ds.SOPInstanceUID = identity.sop_instance_uid
    if acquired is not None and acquired.utcoffset() is not None:
        ds.TimezoneOffsetFromUTC = acquired.strftime("%z")
    contributor = Dataset()
    contributor.PurposeOfReferenceCodeSequence = Sequence([_code(*_PROCESSING_EQUIPMENT)])
    contributor.Manufacturer = producer.manufacturer
    contributor.ManufacturerModelName = producer.model_name
    contributor.SoftwareVersions = producer.software_versions
    if producer.station_name:
        contributor.StationName = producer.station_name
    contributor.ContributionDescription = "Wrapped a camera JPEG as DICOM"
    ds.ContributingEquipmentSequence = Sequence([contributor])

    # Patient (C.7.1.1)
    ds.PatientName = patient.name or ""
    ds.PatientID = patient.id
    if patient.issuer:
        ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d") if patient.birth_date else ""
    ds.PatientSex = patient.sex or ""

    # General Study (C.7.2.1); no order means encounter-based imaging (IHE EBIW)
    ds.StudyInstanceUID = identity.study_instance_uid
    ds.StudyDate = _da(acquired)
    ds.StudyTime = _tm(acquired)
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = (order.accession_number or "") if order else ""
    if order and order.accession_number and order.issuer:
        ds.IssuerOfAccessionNumberSequence = _issuer(order.issuer)
    if context.description:
        ds.StudyDescription = context.description

    # Patient Study (C.7.2.2)
    if encounter is not None:
        ds.AdmissionID = encounter.id
        if encounter.issuer:
            ds.IssuerOfAdmissionIDSequence = _issuer(encounter.issuer)

    # General Series (C.7.3.1); series Laterality left out: images may differ
    ds.Modality = "XC"
    ds.SeriesInstanceUID = identity.series_instance_uid
    ds.SeriesNumber = identity.series_number
    if context.description:
        ds.SeriesDescription = context.description
    if context.operator:
        ds.OperatorsName = context.operator
    if order is not None:
        request = Dataset()
        if order.accession_number:
            request.AccessionNumber = order.accession_number
            if order.issuer:
                request.IssuerOfAccessionNumberSequence = _issuer(order.issuer)
        request.StudyInstanceUID = identity.study_instance_uid
        if order.service_request:
            request.PlacerOrderNumberImagingServiceRequest = order.service_request
        ds.RequestAttributesSequence = Sequence([request])

    # General Equipment (C.7.5.1): the camera made the pixels
    ds.Manufacturer = info.make or ""
    if info.model:
        ds.ManufacturerModelName = info.model
    if context.institution:
        ds.InstitutionName = context.institution
    if context.department:
        ds.InstitutionalDepartmentName = context.department

    # General Image (C.7.6.1) and VL Image (C.8.12.1)
    ds.InstanceNumber = identity.instance_number
    ds.PatientOrientation = ""
    ds.ContentDate = _da(acquired)
    ds.ContentTime = _tm(acquired)
    if acquired is not None:
        ds.AcquisitionDateTime = _dt(acquired)
    ds.ImageType = ["DERIVED" if pixels.derived else "ORIGINAL", "PRIMARY"]
    ds.ImageLaterality = (site.laterality if site else None) or "U"
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "NO"
    # The camera's JPEG is already lossy (PS3.3 C.7.6.1.1.5).
    ds.LossyImageCompression = "01"
    raw_size = info.rows * info.columns * samples
    if pixels.derived:
        ds.DerivationDescription = pixels.derivation
        ds.LossyImageCompressionRatio = [
            _ratio(raw_size, camera_stream_size),
            _ratio(raw_size, len(pixels.stream)),
        ]
        ds.LossyImageCompressionMethod = ["ISO_10918_1", "ISO_10918_1"]
    else:
        ds.LossyImageCompressionRatio = _ratio(raw_size, len(pixels.stream))
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    if site is not None:
        ds.AnatomicRegionSequence = Sequence(
            [_code(site.value, site.scheme, site.meaning or site.code)]
        )

    # Acquisition Context (C.7.6.14): required, may be empty
    ds.AcquisitionContextSequence = Sequence()

    # Image Pixel (C.7.6.3) as constrained by VL Image (C.8.12.1.1)
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "YBR_FULL_422"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = frame.rows
    ds.Columns = frame.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if pixels.icc_profile is not None:
        # ICC Profile must equal the stream's APP2 profile (STANDARDS.md, Photos).
        ds.ICCProfile = pixels.icc_profile
    ds.PixelData = encapsulate([pixels.stream])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds
