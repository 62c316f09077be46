"""The SR Measurement Report: written, read back by highdicom, dciodvfy-clean."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from encapsulate import CaptureContext, ContextError, InstanceIdentity, MediaError, wrap
from encapsulate.iods.measurement_report import (
    AUTO_OUTLINE_ALGORITHM,
    WoundTracking,
    build_measurement_report,
    read_measurement_report,
)
from encapsulate.measure import WoundMeasurement, measure_photo
from tests.dicom_checks import dciodvfy_errors
from tests.encapsulate.measure.conftest import scene

MEASURED_AT = datetime(2026, 11, 28, 10, 16, 30)
WOUND = WoundTracking(identifier="Wound 1, left lower leg", uid="2.25.1234567890123456789")


@pytest.fixture
def photo(tmp_path: Path, context: CaptureContext) -> tuple[pydicom.Dataset, Path]:
    source = tmp_path / "wound.jpg"
    source.write_bytes(scene(tilt_deg=20.0).jpeg(quality=90))
    (written,) = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=tmp_path)
    return pydicom.dcmread(written.path), source


def _report_for(
    photo: pydicom.Dataset, measurement: WoundMeasurement, out: Path
) -> tuple[Path, InstanceIdentity]:
    identity = InstanceIdentity.mint(study_instance_uid=str(photo.StudyInstanceUID))
    report = build_measurement_report(
        photo=photo,
        measurement=measurement,
        wound=WOUND,
        identity=identity,
        measured_at=MEASURED_AT,
        observer_name="NURSE^ANN",
    )
    path = out / "sr.dcm"
    report.save_as(path, enforce_file_format=True)
    return path, identity


def test_report_reads_back_the_outline_numbers_and_wound_identity(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    measurement = measure_photo(source, outline=scene(tilt_deg=20.0).outline.tolist())
    path, identity = _report_for(dataset, measurement, tmp_path)
    report = hd.sr.srread(path)
    assert report.StudyInstanceUID == dataset.StudyInstanceUID
    assert report.SOPInstanceUID == identity.sop_instance_uid
    assert report.Modality == "SR"
    (group,) = report.content.get_planar_roi_measurement_groups()
    assert group.tracking_uid == WOUND.uid
    assert group.tracking_identifier == WOUND.identifier
    assert group.reference_type == codes.DCM.ImageRegion
    region = group.roi
    assert region.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
    points = region.value
    assert np.allclose(points[0], points[-1])  # closed
    assert np.allclose(points[:-1], measurement.outline, atol=1e-3)
    source_image = region.ContentSequence[0].ReferencedSOPSequence[0]
    assert source_image.ReferencedSOPInstanceUID == dataset.SOPInstanceUID
    values = {m.name.value: (m.value, m.unit.value) for m in group.get_measurements()}
    size = measurement.size
    assert values["42798000"] == (pytest.approx(size.area_cm2, abs=1e-4), "cm2")
    assert values["103339001"] == (pytest.approx(size.length_cm, abs=1e-4), "cm")
    assert values["103340004"] == (pytest.approx(size.width_cm, abs=1e-4), "cm")
    assert values["131191004"] == (pytest.approx(size.perimeter_cm, abs=1e-4), "cm")
    (site,) = group.finding_sites
    assert site.value.value == "30021000"  # the photo's Anatomic Region, Lower leg
    (side,) = site.ContentSequence
    assert side.ConceptCodeSequence[0].CodeValue == "7771000"  # Left, its Image Laterality


def test_report_is_dciodvfy_clean(photo: tuple[pydicom.Dataset, Path], tmp_path: Path) -> None:
    dataset, source = photo
    path, _ = _report_for(dataset, measure_photo(source), tmp_path)
    assert dciodvfy_errors(path) == []


def test_automatic_outline_names_its_algorithm(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    path, _ = _report_for(dataset, measure_photo(source), tmp_path)
    (group,) = hd.sr.srread(path).content.get_planar_roi_measurement_groups()
    (name,) = group[0].ContentSequence.find(codes.DCM.AlgorithmName)
    assert name.value == AUTO_OUTLINE_ALGORITHM


def test_same_arguments_build_the_same_report(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    measurement = measure_photo(source)
    identity = InstanceIdentity.mint(study_instance_uid=str(dataset.StudyInstanceUID))
    first, second = (
        build_measurement_report(
            photo=dataset,
            measurement=measurement,
            wound=WOUND,
            identity=identity,
            measured_at=MEASURED_AT,
        )
        for _ in range(2)
    )
    for report, name in ((first, "a.dcm"), (second, "b.dcm")):
        report.save_as(tmp_path / name, enforce_file_format=True)
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()


def test_manual_outline_names_no_algorithm(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    measurement = measure_photo(source, outline=scene(tilt_deg=20.0).outline.tolist())
    path, _ = _report_for(dataset, measurement, tmp_path)
    (group,) = hd.sr.srread(path).content.get_planar_roi_measurement_groups()
    assert group[0].ContentSequence.find(codes.DCM.AlgorithmName) == []


def test_report_outside_the_photos_study_is_refused(
    photo: tuple[pydicom.Dataset, Path],
) -> None:
    dataset, source = photo
    with pytest.raises(MediaError, match="photo's study"):
        build_measurement_report(
            photo=dataset,
            measurement=measure_photo(source),
            wound=WOUND,
            identity=InstanceIdentity.mint(),
            measured_at=MEASURED_AT,
        )


def test_outline_from_another_photo_size_is_refused(
    photo: tuple[pydicom.Dataset, Path],
) -> None:
    dataset, source = photo
    dataset.Columns = 1024
    with pytest.raises(MediaError, match="800x600 photo, but the DICOM photo is 1024x600"):
        build_measurement_report(
            photo=dataset,
            measurement=measure_photo(source),
            wound=WOUND,
            identity=InstanceIdentity.mint(study_instance_uid=str(dataset.StudyInstanceUID)),
            measured_at=MEASURED_AT,
        )


def test_wound_tracking_uid_must_be_a_uid() -> None:
    with pytest.raises(ContextError, match="not a DICOM UID"):
        WoundTracking(identifier="Wound 1", uid="wound-1")
    assert WoundTracking(identifier="Wound 1", uid=generate_uid()).identifier == "Wound 1"


def test_report_reads_back_as_the_wounds_size_over_time(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    measurement = measure_photo(source)
    path, _ = _report_for(dataset, measurement, tmp_path)
    reported = read_measurement_report(pydicom.dcmread(path))
    assert reported.tracking_uid == WOUND.uid
    assert reported.tracking_identifier == WOUND.identifier
    assert reported.photo_sop_instance_uid == dataset.SOPInstanceUID
    assert reported.area_cm2 == pytest.approx(measurement.size.area_cm2, abs=1e-4)
    assert reported.width_cm == pytest.approx(measurement.size.width_cm, abs=1e-4)
    assert reported.perimeter_cm == pytest.approx(measurement.size.perimeter_cm, abs=1e-4)
    assert np.allclose(reported.outline, measurement.outline, atol=1e-3)
    assert reported.measured_at == MEASURED_AT


def test_report_time_carries_its_timezone(
    photo: tuple[pydicom.Dataset, Path], tmp_path: Path
) -> None:
    dataset, source = photo
    identity = InstanceIdentity.mint(study_instance_uid=str(dataset.StudyInstanceUID))
    report = build_measurement_report(
        photo=dataset,
        measurement=measure_photo(source),
        wound=WOUND,
        identity=identity,
        measured_at=datetime(2026, 11, 28, 10, 16, tzinfo=timezone(timedelta(hours=1))),
    )
    assert (str(report.ContentDate), str(report.ContentTime)[:6]) == ("20261128", "101600")
    assert report.TimezoneOffsetFromUTC == "+0100"
    report.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    assert dciodvfy_errors(tmp_path / "sr.dcm") == []


def test_a_photo_is_not_read_as_a_measurement_report(
    photo: tuple[pydicom.Dataset, Path],
) -> None:
    dataset, _ = photo
    with pytest.raises(MediaError, match="not a wound measurement report"):
        read_measurement_report(dataset)
