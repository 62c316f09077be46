"""Already-DICOM inputs: kept as is, identity reconciled, the change recorded (C.12.1.1.9)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydicom
import pytest

from encapsulate import CaptureContext, InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.dicom.reconcile import wrap_dicom
from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.identity import Producer
from tests.dicom_checks import dciodvfy_errors
from tests.media_documents import (
    DEVICE_ACCESSION,
    DEVICE_PATIENT_ID,
    DEVICE_PATIENT_NAME,
    make_dicomdir_like,
    make_raw_data,
    make_sc_image,
    make_us_image,
)

UNTOUCHED = (
    "SOPClassUID",
    "SOPInstanceUID",
    "SeriesInstanceUID",
    "PixelData",
    "Rows",
    "Columns",
    "PhotometricInterpretation",
    "Manufacturer",
    "ContentDate",
    "ContentTime",
)


@pytest.mark.parametrize("make", [make_us_image, make_sc_image], ids=["us", "sc"])
def test_identity_is_reconciled_and_nothing_else_changes(
    tmp_path: Path, context: CaptureContext, make: Any
) -> None:
    source = make(tmp_path / "device.dcm")
    before = pydicom.dcmread(source)
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    after = pydicom.dcmread(written.path)

    assert sorted(dciodvfy_errors(written.path)) == sorted(dciodvfy_errors(source))
    for keyword in UNTOUCHED:
        assert after[keyword].value == before[keyword].value, keyword
    if "SequenceOfUltrasoundRegions" in before:
        assert after.SequenceOfUltrasoundRegions == before.SequenceOfUltrasoundRegions
    assert after.file_meta.TransferSyntaxUID == before.file_meta.TransferSyntaxUID
    assert (after.PatientName, after.PatientID, after.IssuerOfPatientID) == (
        "DOE^JANE",
        "MRN-0042",
        "HOSP",
    )
    assert (after.PatientBirthDate, after.PatientSex) == ("19500131", "F")
    assert after.AccessionNumber == "ACC-7"
    assert after.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "HOSP"
    assert after.AdmissionID == "ENC-9"
    [request] = after.RequestAttributesSequence
    assert (request.AccessionNumber, request.StudyInstanceUID) == ("ACC-7", before.StudyInstanceUID)
    # No study UID in the order: the device's study stays.
    assert after.StudyInstanceUID == before.StudyInstanceUID

    assert written.path.name == f"{before.SOPInstanceUID}.dcm"
    assert (written.sop_instance_uid, written.series_instance_uid, written.study_instance_uid) == (
        before.SOPInstanceUID,
        before.SeriesInstanceUID,
        before.StudyInstanceUID,
    )
    assert written.sop_class_uid == before.SOPClassUID and not written.derived

    [item] = after.OriginalAttributesSequence
    assert item.ReasonForTheAttributeModification == "COERCE"
    assert item.ModifyingSystem == Producer().model_name
    assert item.AttributeModificationDateTime
    [old] = item.ModifiedAttributesSequence
    assert (old.PatientName, old.PatientID, old.AccessionNumber) == (
        DEVICE_PATIENT_NAME,
        DEVICE_PATIENT_ID,
        DEVICE_ACCESSION,
    )
    # Attributes the device had not set are listed empty.
    assert old.AdmissionID == "" and old.RequestAttributesSequence == []
    assert "StudyInstanceUID" not in old
    assert after.ContributingEquipmentSequence[-1].Manufacturer == Producer().manufacturer


def test_order_study_uid_replaces_the_devices_and_is_recorded(
    tmp_path: Path, context_json: dict[str, Any]
) -> None:
    data = copy.deepcopy(context_json)
    data["order"]["study_instance_uid"] = "1.2.3.4.5"
    source = make_us_image(tmp_path / "device.dcm")
    device_study = pydicom.dcmread(source).StudyInstanceUID
    [written] = wrap(
        source, context=parse_context(data), identity=InstanceIdentity.mint(), out_dir=tmp_path
    )
    after = pydicom.dcmread(written.path)
    assert after.StudyInstanceUID == "1.2.3.4.5" == written.study_instance_uid
    assert after.RequestAttributesSequence[0].StudyInstanceUID == "1.2.3.4.5"
    old = after.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert old.StudyInstanceUID == device_study


def test_a_retry_writes_the_same_instance(tmp_path: Path, context: CaptureContext) -> None:
    source = make_us_image(tmp_path / "device.dcm")
    moment = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        [written] = wrap_dicom(
            source,
            context=context,
            identity=InstanceIdentity.mint(),
            producer=Producer(),
            out_dir=out,
            modified_at=moment,
        )
        outputs.append(written.path.read_bytes())
    assert outputs[0] == outputs[1]


def test_unicode_names_switch_the_character_set(
    tmp_path: Path, context_json: dict[str, Any]
) -> None:
    data = copy.deepcopy(context_json)
    data["patient"]["name"] = "MÜLLER^JÖRG"
    source = make_sc_image(tmp_path / "device.dcm")
    [written] = wrap(
        source, context=parse_context(data), identity=InstanceIdentity.mint(), out_dir=tmp_path
    )
    after = pydicom.dcmread(written.path)
    assert after.SpecificCharacterSet == "ISO_IR 192"
    assert after.PatientName == "MÜLLER^JÖRG"
    assert dciodvfy_errors(written.path) == dciodvfy_errors(source)


def test_inspect_describes_the_object(tmp_path: Path) -> None:
    info = inspect_media(make_us_image(tmp_path / "device.dcm", rows=48, columns=64))
    assert (info.kind, info.mime_type, info.rows, info.columns) == (
        "dicom",
        "application/dicom",
        48,
        64,
    )
    assert info.codec == "Ultrasound Image"


@pytest.mark.parametrize(
    ("make", "error", "reason"),
    [
        (make_dicomdir_like, UnsupportedMediaError, "the file is a DICOMDIR"),
        (
            make_raw_data,
            UnsupportedMediaError,
            "DICOM objects of SOP class 1.2.840.10008.5.1.4.1.1.66",
        ),
    ],
    ids=["dicomdir", "raw-data"],
)
def test_refused_inputs(
    tmp_path: Path, context: CaptureContext, make: Any, error: type, reason: str
) -> None:
    source = make(tmp_path / "in.dcm")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(error, match=f"^{reason}"):
        wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("keep", [400, -100], ids=["header", "pixels"])
def test_truncated_dicom_is_refused(tmp_path: Path, context: CaptureContext, keep: int) -> None:
    data = make_us_image(tmp_path / "device.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:keep])
    with pytest.raises(MediaError, match=r"^the DICOM"):
        inspect_media(cut)
