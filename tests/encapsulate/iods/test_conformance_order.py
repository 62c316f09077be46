"""Order identifiers as PS3.3 10.9 (Request Attributes Macro) and IHE XDS want them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pydicom
import pytest

from encapsulate import (
    CaptureContext,
    InstanceIdentity,
    Order,
    XdsPolicy,
    describe_original,
    inspect_media,
    wrap,
)
from tests.dicom_checks import assert_dciodvfy_clean
from tests.media import make_jpeg

OIDS = XdsPolicy(source_id="1.2.840.99999.1", assigning_authorities={"HOSP": "1.2.840.99999.7"})


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return make_jpeg(tmp_path / "wound.jpg", width=320, height=240)


def _written(photo: Path, context: CaptureContext, tmp_path: Path) -> pydicom.Dataset:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    [instance] = wrap(photo, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert_dciodvfy_clean(instance.path)
    return pydicom.dcmread(instance.path)


def test_request_attributes_hold_accession_procedure_and_step(photo, context, tmp_path):
    ds = _written(photo, context, tmp_path)
    [request] = ds.RequestAttributesSequence
    assert request.AccessionNumber == "ACC-7"
    assert request.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "HOSP"
    assert request.RequestedProcedureID == "RP-7"
    assert request.ScheduledProcedureStepID == "SPS-7"
    assert request.StudyInstanceUID == ds.StudyInstanceUID
    # The macro has no Placer Order Number; the FHIR resource id is no order number.
    assert "PlacerOrderNumberImagingServiceRequest" not in request
    assert b"ServiceRequest/123" not in Path(ds.filename).read_bytes()
    assert b"PLC-55" not in Path(ds.filename).read_bytes()


def test_an_unscheduled_order_has_no_procedure_ids(photo, context, tmp_path):
    order = Order(accession_number="ACC-8", issuer="HOSP", service_request="ServiceRequest/9")
    ds = _written(photo, dataclasses.replace(context, order=order), tmp_path)
    [request] = ds.RequestAttributesSequence
    assert "RequestedProcedureID" not in request
    assert "ScheduledProcedureStepID" not in request


def test_xds_order_reference_is_the_placer_number_only(photo, context):
    identity = InstanceIdentity.mint()
    entry = describe_original(
        photo, context=context, media_info=inspect_media(photo), identity=identity, policy=OIDS
    )
    orders = [r.cxi for r in entry.reference_ids if r.type.endswith(":order")]
    assert orders == ["PLC-55^^^&1.2.840.99999.7&ISO^urn:ihe:iti:xds:2013:order"]

    no_placer = dataclasses.replace(
        context, order=Order(accession_number="ACC-7", issuer="HOSP", service_request="SR/1")
    )
    entry = describe_original(
        photo, context=no_placer, media_info=inspect_media(photo), identity=identity, policy=OIDS
    )
    assert not [r for r in entry.reference_ids if r.type.endswith(":order")]
