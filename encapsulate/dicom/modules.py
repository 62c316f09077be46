"""The modules every object the hub writes shares, filled from the capture context.

One function per module of PS3.3 (or a close group of them), so that each IOD
builder (``iods.vl_image``, ``iods.video``, ``iods.secondary_capture``, ...)
states only what is its own: the image or document modules and the pixel or
document data.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from encapsulate.context.capture import BodySite, CaptureContext, Order
from encapsulate.dicom.enums import LossyImageCompression
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.value_rules import needs_unicode

# PS3.16 CID 7005 Contributing Equipment Purposes of Reference.
PROCESSING_EQUIPMENT = ("109102", "DCM", "Processing Equipment")


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    """Code Sequence Macro item (PS3.3 8.8)."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def issuer_sequence(local_id: str, oid: str | None = None) -> Sequence:
    """HL7v2 Hierarchic Designator macro (PS3.3 10.14): the local namespace, and the
    issuer's OID as Universal Entity ID where the hub knows it."""
    item = Dataset()
    item.LocalNamespaceEntityID = local_id
    if oid:
        item.UniversalEntityID = oid
        item.UniversalEntityIDType = "ISO"
    return Sequence([item])


def da(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%d") if moment else ""


def tm(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%H%M%S") + (f".{moment.microsecond:06d}" if moment.microsecond else "")


def dt(moment: datetime) -> str:
    # DT keeps the UTC offset when known (PS3.5 6.2, DT).
    offset = moment.strftime("%z") if moment.utcoffset() is not None else ""
    return da(moment) + tm(moment) + offset


def lossy_image_compression(lossy: bool | None) -> str:
    """Lossy Image Compression (0028,2110), type 2 (PS3.3 C.7.6.1.1.5): "01" once the
    pixels have ever been lossy compressed, "00" when known never, empty when unknown."""
    if lossy is None:
        return ""
    return LossyImageCompression.LOSSY if lossy else LossyImageCompression.NOT_LOSSY


def study_zone(context: CaptureContext) -> tzinfo | None:
    """The one UTC offset of the capture's study: the hub's study facts, else the
    context's clock (a phone's video clock is UTC; its owner's is the context's)."""
    if context.study is not None:
        return context.study.started_at.tzinfo
    if context.captured_at is not None:
        return context.captured_at.tzinfo
    return None


def capture_moment(context: CaptureContext, from_media: datetime | None) -> datetime | None:
    """When the capture was taken (the media's clock, else the context's), in the
    study's zone, so that every time the instance writes shares its Timezone
    Offset From UTC (PS3.3 C.12.1.1.8). A time without offset is kept as local."""
    moment = from_media or context.captured_at
    zone = study_zone(context)
    if moment is not None and zone is not None and moment.utcoffset() is not None:
        return moment.astimezone(zone)
    return moment


def new_dataset(sop_class_uid: str, identity: InstanceIdentity, transfer_syntax: str) -> Dataset:
    """A dataset with its File Meta Information (PS3.10 7.1) and SOP identity."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = identity.sop_instance_uid
    meta.TransferSyntaxUID = UID(transfer_syntax)
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UID(sop_class_uid)
    ds.SOPInstanceUID = identity.sop_instance_uid
    return ds


def _context_texts(context: CaptureContext) -> list[str | None]:
    patient, order, encounter, site = (
        context.patient,
        context.order,
        context.encounter,
        context.body_site,
    )
    return [
        patient.id,
        patient.issuer,
        patient.name,
        context.operator,
        context.institution,
        context.department,
        context.description,
        site.meaning if site else None,
        encounter.id if encounter else None,
        encounter.issuer if encounter else None,
        *(
            (order.accession_number, order.issuer, order.placer_order_number, order.placer_issuer)
            if order
            else ()
        ),
    ]


def add_sop_common(
    ds: Dataset,
    *,
    context: CaptureContext,
    producer: Producer,
    contribution: str,
    acquired: datetime | None,
    extra_texts: tuple[str | None, ...] = (),
) -> None:
    """SOP Common (C.12.1): character set, time zone, the hub as contributing equipment."""
    if needs_unicode(*_context_texts(context), *extra_texts):
        ds.SpecificCharacterSet = "ISO_IR 192"
    zone = study_zone(context)
    reference = context.study.started_at if context.study is not None else acquired
    if zone is not None and reference is not None:
        offset = reference.replace(tzinfo=zone) if reference.utcoffset() is None else reference
        ds.TimezoneOffsetFromUTC = offset.astimezone(zone).strftime("%z")
    elif acquired is not None and acquired.utcoffset() is not None:
        ds.TimezoneOffsetFromUTC = acquired.strftime("%z")
    contributor = Dataset()
    contributor.PurposeOfReferenceCodeSequence = Sequence([code_item(*PROCESSING_EQUIPMENT)])
    contributor.Manufacturer = producer.manufacturer
    contributor.ManufacturerModelName = producer.model_name
    contributor.SoftwareVersions = producer.software_versions
    if producer.station_name:
        contributor.StationName = producer.station_name
    contributor.ContributionDescription = contribution
    ds.ContributingEquipmentSequence = Sequence([contributor])


def add_common_modules(
    ds: Dataset,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    contribution: str,
    acquired: datetime | None,
    modality: str,
    make: str | None,
    model: str | None,
    extra_texts: tuple[str | None, ...] = (),
) -> None:
    """The modules every object the hub writes carries: SOP Common, Patient, General
    Study and Patient Study, General Series and General Equipment (below)."""
    add_sop_common(
        ds,
        context=context,
        producer=producer,
        contribution=contribution,
        acquired=acquired,
        extra_texts=extra_texts,
    )
    add_patient(ds, context, producer)
    add_study(ds, context, identity, acquired, producer)
    add_series(ds, context, identity, producer, modality=modality)
    add_equipment(ds, context, make=make, model=model)


def add_patient(ds: Dataset, context: CaptureContext, producer: Producer) -> None:
    """Patient (C.7.1.1); the issuer's OID, where known, in Issuer of Patient ID
    Qualifiers Sequence, the same domain XDS names in patientId."""
    patient = context.patient
    ds.PatientName = patient.name or ""
    ds.PatientID = patient.id
    if patient.issuer:
        ds.IssuerOfPatientID = patient.issuer
        oid = producer.issuer_oid(patient.issuer)
        if oid:
            qualifiers = Dataset()
            qualifiers.UniversalEntityID = oid
            qualifiers.UniversalEntityIDType = "ISO"
            ds.IssuerOfPatientIDQualifiersSequence = Sequence([qualifiers])
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d") if patient.birth_date else ""
    ds.PatientSex = patient.sex or ""


def add_study(
    ds: Dataset,
    context: CaptureContext,
    identity: InstanceIdentity,
    acquired: datetime | None,
    producer: Producer,
) -> None:
    """General Study (C.7.2.1) and Patient Study (C.7.2.2).

    Study Date, Time and Description are the study's (``context.study``, the
    same on every instance of it), else this capture's. No order means
    encounter-based imaging (IHE EBIW): the accession number stays empty and
    the encounter goes in Admission ID with its issuer.
    """
    order, encounter, study = context.order, context.encounter, context.study
    ds.StudyInstanceUID = identity.study_instance_uid
    started = acquired
    if study is not None:
        zone = study_zone(context)
        started = study.started_at.astimezone(zone) if zone else study.started_at
    ds.StudyDate = da(started)
    ds.StudyTime = tm(started)
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = (order.accession_number or "") if order else ""
    if order and order.accession_number and order.issuer:
        ds.IssuerOfAccessionNumberSequence = issuer_sequence(
            order.issuer, producer.issuer_oid(order.issuer)
        )
    description = study.description if study is not None else context.description
    if description:
        ds.StudyDescription = description
    if encounter is not None:
        ds.AdmissionID = encounter.id
        if encounter.issuer:
            ds.IssuerOfAdmissionIDSequence = issuer_sequence(
                encounter.issuer, producer.issuer_oid(encounter.issuer)
            )


def add_series(
    ds: Dataset,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    *,
    modality: str,
) -> None:
    """General Series (C.7.3.1), with the Request Attributes Sequence for an order.

    Series Laterality is left out: images of one series may differ in side.
    """
    order = context.order
    ds.Modality = modality
    ds.SeriesInstanceUID = identity.series_instance_uid
    study = context.study
    ds.SeriesNumber = (
        study.series_number if study and study.series_number else identity.series_number
    )
    if context.description:
        ds.SeriesDescription = context.description
    if context.operator:
        ds.OperatorsName = context.operator
    if order is not None:
        ds.RequestAttributesSequence = request_attributes(
            order, identity.study_instance_uid, producer.issuer_oid(order.issuer)
        )


def request_attributes(
    order: Order, study_instance_uid: str, issuer_oid: str | None = None
) -> Sequence:
    """Request Attributes Sequence (0040,0275), one item for the order (PS3.3 10.9).

    The macro has no Placer Order Number, and none of the image IODs the hub
    writes has Order Placer Identifier Sequence (0040,0026): a placer order
    number travels in the XDS reference id list only. The EMR's resource id
    (``service_request``) is never an order number.
    """
    request = Dataset()
    if order.requested_procedure_id:
        request.RequestedProcedureID = order.requested_procedure_id
    if order.accession_number:
        request.AccessionNumber = order.accession_number
        if order.issuer:
            request.IssuerOfAccessionNumberSequence = issuer_sequence(order.issuer, issuer_oid)
    request.StudyInstanceUID = study_instance_uid
    if order.scheduled_procedure_step_id:
        request.ScheduledProcedureStepID = order.scheduled_procedure_step_id
    return Sequence([request])


def add_equipment(
    ds: Dataset, context: CaptureContext, *, make: str | None, model: str | None
) -> None:
    """General Equipment (C.7.5.1): the device that made the pixels."""
    ds.Manufacturer = make or ""
    if model:
        ds.ManufacturerModelName = model
    if context.institution:
        ds.InstitutionName = context.institution
    if context.department:
        ds.InstitutionalDepartmentName = context.department


def add_anatomic_region(ds: Dataset, site: BodySite | None) -> None:
    """Anatomic Region Sequence (0008,2218), one item, from the context's body site."""
    if site is not None:
        ds.AnatomicRegionSequence = Sequence(
            [code_item(site.value, site.scheme, site.meaning or site.code)]
        )
