"""Issuer OIDs in DICOM as in XDS (PS3.3 C.7.1.1 Issuer of Patient ID Qualifiers, 10.14)."""

from __future__ import annotations

from pathlib import Path

import pydicom

from encapsulate import CaptureContext, InstanceIdentity, Producer, wrap
from tests.dicom_checks import assert_dciodvfy_clean
from tests.media import make_jpeg

OID = "1.2.840.99999.7"


def _wrap(tmp_path: Path, context: CaptureContext, producer: Producer) -> pydicom.Dataset:
    photo = make_jpeg(tmp_path / "p.jpg", width=320, height=240)
    out = tmp_path / "out"
    out.mkdir()
    [written] = wrap(
        photo, context=context, identity=InstanceIdentity.mint(), out_dir=out, producer=producer
    )
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path)


def test_mapped_issuers_carry_their_oid(tmp_path: Path, context: CaptureContext) -> None:
    ds = _wrap(tmp_path, context, Producer(issuer_oids={"HOSP": OID}))
    assert ds.IssuerOfPatientID == "HOSP"
    [qualifiers] = ds.IssuerOfPatientIDQualifiersSequence
    assert (qualifiers.UniversalEntityID, qualifiers.UniversalEntityIDType) == (OID, "ISO")
    for issuer in (
        ds.IssuerOfAccessionNumberSequence[0],
        ds.IssuerOfAdmissionIDSequence[0],
        ds.RequestAttributesSequence[0].IssuerOfAccessionNumberSequence[0],
    ):
        assert issuer.LocalNamespaceEntityID == "HOSP"
        assert (issuer.UniversalEntityID, issuer.UniversalEntityIDType) == (OID, "ISO")


def test_an_issuer_without_an_oid_stays_local(tmp_path: Path, context: CaptureContext) -> None:
    ds = _wrap(tmp_path, context, Producer())
    assert "IssuerOfPatientIDQualifiersSequence" not in ds
    assert "UniversalEntityID" not in ds.IssuerOfAccessionNumberSequence[0]


def test_an_issuer_that_is_an_oid_is_its_own_universal_id() -> None:
    assert Producer().issuer_oid("1.2.3.4") == "1.2.3.4"
    assert Producer().issuer_oid("HOSP") is None
    assert Producer(issuer_oids={"HOSP": OID}).issuer_oid("HOSP") == OID
