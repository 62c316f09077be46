"""The wound's measurement as a DICOM SR Measurement Report (TID 1500).

One Comprehensive SR (PS3.3 A.35.3) in the photo's study and a series of
its own (modality SR), holding one TID 1410 Planar ROI Measurements group:
the outline as a closed SCOORD POLYLINE on the referenced photo (PS3.3
C.18.6.1.2: a closed polyline repeats its first point last), and Area, Long
Axis, Short Axis and Perimeter (SNOMED CT, CID 7470 / 7472) in UCUM cm2 and
cm. The wound's Tracking Identifier and Tracking UID (TID 1410 rows 2-3) are
the same for every report of one wound, which is how an archive or viewer
follows its size over time.

SCOORD columns and rows start at the top-left corner of the top-left pixel
(PS3.3 C.18.6.1.1), as ``encapsulate.measure`` outlines do; the DICOM photo
carries its pixels with the EXIF orientation applied, so the displayed
coordinates the outline was drawn in are the photo's own.

``read_measurement_report`` reads such a report back (tracking, photo,
outline, sizes, time): what a wound's history over time is made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from encapsulate.context.capture import WoundTracking
from encapsulate.errors import MediaError
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.measure.photo_measure import WoundMeasurement

# Image Laterality (0020,0062) to the SNOMED CT laterality of the finding site (CID 244).
_LATERALITY = {"R": codes.SCT.Right, "L": codes.SCT.Left, "B": codes.SCT.RightAndLeft}
AUTO_OUTLINE_ALGORITHM = "encapsulate.measure automatic outline"


def _finding_sites(photo: Dataset) -> list[hd.sr.FindingSite]:
    regions = photo.get("AnatomicRegionSequence") or []
    if not regions:
        return []
    region = regions[0]
    laterality = _LATERALITY.get(str(photo.get("ImageLaterality", "")))
    site = hd.sr.CodedConcept(
        value=region.CodeValue,
        scheme_designator=region.CodingSchemeDesignator,
        meaning=region.CodeMeaning,
    )
    return [hd.sr.FindingSite(anatomic_location=site, laterality=laterality)]


def _measurements(measurement: WoundMeasurement) -> list[hd.sr.Measurement]:
    size = measurement.size
    rows = [
        (codes.SCT.Area, size.area_cm2, codes.UCUM.SquareCentimeter),
        (codes.SCT.LongAxis, size.length_cm, codes.UCUM.Centimeter),
        (codes.SCT.ShortAxis, size.width_cm, codes.UCUM.Centimeter),
        (codes.SCT.Perimeter, size.perimeter_cm, codes.UCUM.Centimeter),
    ]
    return [
        hd.sr.Measurement(name=name, value=round(value, 4), unit=unit) for name, value, unit in rows
    ]


def _device_uid(producer: Producer) -> str:
    """The hub's Device Observer UID, derived from its name so it is stable."""
    return generate_uid(
        entropy_srcs=["device observer", producer.manufacturer, producer.model_name]
    )


def _check(photo: Dataset, measurement: WoundMeasurement, identity: InstanceIdentity) -> None:
    if str(photo.StudyInstanceUID) != identity.study_instance_uid:
        raise MediaError("the measurement report belongs in the photo's study")
    if str(photo.SeriesInstanceUID) == identity.series_instance_uid:
        raise MediaError("the measurement report needs a series of its own (modality SR)")
    if (int(photo.Columns), int(photo.Rows)) != (measurement.width, measurement.height):
        raise MediaError(
            f"the outline was drawn on a {measurement.width}x{measurement.height} photo, but the "
            f"DICOM photo is {photo.Columns}x{photo.Rows}"
        )


def build_measurement_report(
    *,
    photo: Dataset,
    measurement: WoundMeasurement,
    wound: WoundTracking,
    identity: InstanceIdentity,
    measured_at: datetime,
    producer: Producer | None = None,
    finding_type: Code | None = None,
    observer_name: str | None = None,
) -> hd.sr.ComprehensiveSR:
    """The SR for ``measurement`` made on ``photo`` (its header suffices).

    ``identity`` gives the report's own series and instance in the photo's
    study; the same arguments always build the same dataset, so a retry
    re-sends the very same instance. ``finding_type`` is the wound's kind
    (e.g. SNOMED CT 399912005 Pressure sore) when it is known; the finding
    site is the photo's Anatomic Region with its Image Laterality.
    """
    _check(photo, measurement, identity)
    producer = producer or Producer()
    closed = np.vstack([measurement.outline, measurement.outline[:1]])
    region = hd.sr.ImageRegion(
        graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
        graphic_data=closed.astype(np.float32),
        source_image=hd.sr.SourceImageForRegion.from_source_image(photo),
    )
    algorithm = (
        hd.sr.AlgorithmIdentification(
            name=AUTO_OUTLINE_ALGORITHM, version=producer.software_versions
        )
        if measurement.method == "auto"
        else None
    )
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=wound.uid, identifier=wound.identifier),
        referenced_region=region,
        finding_type=finding_type,
        algorithm_id=algorithm,
        finding_sites=_finding_sites(photo) or None,
        measurements=_measurements(measurement),
    )
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_device_uid(producer),
            name=producer.model_name,
            manufacturer_name=producer.manufacturer,
        ),
    )
    person = (
        hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=observer_name
            ),
        )
        if observer_name
        else None
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_person_context=person, observer_device_context=device
        ),
        procedure_reported=codes.SCT.PhotographyOfPatient,
        imaging_measurements=[group],
    )
    report = hd.sr.ComprehensiveSR(
        evidence=[photo],
        content=report[0],
        series_instance_uid=identity.series_instance_uid,
        series_number=identity.series_number,
        sop_instance_uid=identity.sop_instance_uid,
        instance_number=identity.instance_number,
        manufacturer=producer.manufacturer,
        manufacturer_model_name=producer.model_name,
        software_versions=producer.software_versions,
        institution_name=photo.get("InstitutionName") or None,
        is_complete=True,
        content_date=measured_at.date(),
        content_time=measured_at.time().replace(tzinfo=None),
        series_date=measured_at.date(),
        series_time=measured_at.time().replace(tzinfo=None),
        series_description="Wound measurement",
    )
    # highdicom stamps the instance with the clock; the measurement's time keeps a
    # retried build identical.
    report.InstanceCreationDate = measured_at.strftime("%Y%m%d")
    report.InstanceCreationTime = measured_at.strftime("%H%M%S")
    for contribution in report.get("ContributingEquipmentSequence", []):
        contribution.ContributionDateTime = measured_at.strftime("%Y%m%d%H%M%S")
    if measured_at.utcoffset() is not None:
        # SOP Common (PS3.3 C.12.1): the dates and times above are local to this offset.
        report.TimezoneOffsetFromUTC = measured_at.strftime("%z")
    return report


@dataclass(frozen=True)
class ReportedWoundSize:
    """What a wound's Measurement Report says, for the wound's history over time."""

    tracking_identifier: str
    tracking_uid: str
    photo_sop_instance_uid: str
    outline: np.ndarray  # (n, 2), the closing point dropped
    area_cm2: float
    length_cm: float
    width_cm: float
    perimeter_cm: float | None
    measured_at: datetime


_READ_BACK = {
    codes.SCT.Area.value: "area_cm2",
    codes.SCT.LongAxis.value: "length_cm",
    codes.SCT.ShortAxis.value: "width_cm",
    codes.SCT.Perimeter.value: "perimeter_cm",
}


def read_measurement_report(dataset: Dataset) -> ReportedWoundSize:
    """The wound's size from a report ``build_measurement_report`` wrote (read with
    pydicom); raises ``MediaError`` if it holds no planar ROI group with an area."""
    try:
        report = hd.sr.ComprehensiveSR.from_dataset(dataset, copy=True)
        groups = report.content.get_planar_roi_measurement_groups()
    except (AttributeError, ValueError, KeyError, IndexError) as error:
        raise MediaError(f"not a wound measurement report: {error}") from None
    if len(groups) != 1:
        raise MediaError(f"a wound measurement report has one ROI group, not {len(groups)}")
    group = groups[0]
    values: dict[str, float] = {}
    for measurement in group.get_measurements():
        field = _READ_BACK.get(measurement.name.value)
        if field is not None:
            values[field] = float(measurement.value)
    if not {"area_cm2", "length_cm", "width_cm"} <= set(values):
        raise MediaError("the report lacks the wound's area, long axis or short axis")
    region = group.roi
    points = np.asarray(region.value, dtype=np.float64)
    if len(points) > 1 and np.allclose(points[0], points[-1]):
        points = points[:-1]
    measured_at = datetime.strptime(
        f"{report.ContentDate}{str(report.ContentTime).split('.')[0]:0<6}", "%Y%m%d%H%M%S"
    )
    return ReportedWoundSize(
        tracking_identifier=str(group.tracking_identifier),
        tracking_uid=str(group.tracking_uid),
        photo_sop_instance_uid=str(
            region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        ),
        outline=points,
        perimeter_cm=values.get("perimeter_cm"),
        measured_at=measured_at,
        **{k: values[k] for k in ("area_cm2", "length_cm", "width_cm")},
    )
