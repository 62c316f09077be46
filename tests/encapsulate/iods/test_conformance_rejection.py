"""IOCM rejection notes (PS3.3 A.35.4, CID 7010) carry the rejected instances'
identifiers with their issuers, and the retention purge has its title."""

from __future__ import annotations

import copy
from pathlib import Path

import pydicom
import pytest
from pydicom.sr._concepts_dict import concepts
from pydicom.uid import generate_uid

from encapsulate import (
    InstanceIdentity,
    MediaError,
    Producer,
    RejectionReason,
    build_rejection_note,
    parse_context,
    wrap,
)
from tests.dicom_checks import assert_dciodvfy_clean
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media import make_jpeg


@pytest.fixture
def rejected(tmp_path: Path) -> pydicom.Dataset:
    data = copy.deepcopy(FULL_CONTEXT)
    data["patient"]["name"] = "MÜLLER^JÖRG"
    photo = make_jpeg(tmp_path / "p.jpg", width=320, height=240)
    [written] = wrap(
        photo,
        context=parse_context(data),
        identity=InstanceIdentity.mint(),
        out_dir=tmp_path,
        producer=Producer(issuer_oids={"HOSP": "1.2.840.99999.7"}),
    )
    return pydicom.dcmread(written.path)


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_note_carries_identifiers_with_issuers(tmp_path, rejected, reason) -> None:
    note = build_rejection_note(
        [rejected],
        reason=reason,
        series_instance_uid=generate_uid(),
        sop_instance_uid=generate_uid(),
        description="withdrawn",
    )
    path = tmp_path / "note.dcm"
    note.save_as(path, enforce_file_format=True)
    assert_dciodvfy_clean(path)
    ds = pydicom.dcmread(path)
    for keyword in (
        "PatientID",
        "IssuerOfPatientID",
        "IssuerOfPatientIDQualifiersSequence",
        "AccessionNumber",
        "IssuerOfAccessionNumberSequence",
        "AdmissionID",
        "IssuerOfAdmissionIDSequence",
        "StudyInstanceUID",
    ):
        assert ds[keyword].value == rejected[keyword].value, keyword
    assert str(ds.PatientName) == "MÜLLER^JÖRG"
    title = ds.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == (reason.value.value, "DCM")


def test_every_reason_is_a_cid_7010_title() -> None:
    in_7010 = {
        code
        for by_code in concepts["DCM"].values()
        for code, (_, cids) in by_code.items()
        if 7010 in cids
    }
    assert {reason.value.value for reason in RejectionReason} <= in_7010
    assert RejectionReason.DATA_RETENTION_POLICY_EXPIRED.value.value == "113039"


def test_instances_of_different_patients_are_refused(rejected) -> None:
    other = copy.deepcopy(rejected)
    other.SOPInstanceUID = generate_uid()
    other.PatientID = "MRN-9999"
    with pytest.raises(MediaError, match="differ in PatientID"):
        build_rejection_note(
            [rejected, other],
            reason=RejectionReason.QUALITY,
            series_instance_uid=generate_uid(),
            sop_instance_uid=generate_uid(),
            description="x",
        )
