"""XDS DocumentEntry (ITI TF-3 4.2.3.2) and the MHD ITI-65 Bundle built from it."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from encapsulate import CaptureContext, InstanceIdentity, inspect_media, parse_context
from encapsulate.errors import ContextError
from encapsulate.xds.metadata import describe_original
from encapsulate.xds.mhd import PROVIDE_BUNDLE, mhd_provide_bundle
from encapsulate.xds.policy import XdsPolicy
from tests.media_documents import make_pdf

POLICY = XdsPolicy(source_id="1.2.3.4.5", assigning_authorities={"HOSP": "1.2.840.99999.7"})
SUBMITTED = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "plan.pdf")


def _entry(pdf: Path, context: CaptureContext, identity: InstanceIdentity | None = None):  # type: ignore[no-untyped-def]
    return describe_original(
        pdf,
        context=context,
        media_info=inspect_media(pdf),
        identity=identity or InstanceIdentity.mint(study_instance_uid="1.2.3.9"),
        policy=POLICY,
    )


def test_document_entry_has_every_comprehensive_field(pdf: Path, context: CaptureContext) -> None:
    identity = InstanceIdentity.mint(study_instance_uid="1.2.3.9")
    entry = _entry(pdf, context, identity)
    data = pdf.read_bytes()
    assert entry.unique_id == identity.sop_instance_uid
    assert entry.entry_uuid.startswith("urn:uuid:")
    assert entry.mime_type == "application/pdf"
    assert (entry.type_code.system, entry.type_code.code) == ("http://loinc.org", "34109-9")
    assert entry.class_code.code == "34109-9"
    assert entry.format_code.code == "urn:ihe:iti:xds:2017:mimeTypeSufficient"
    assert entry.confidentiality_code.code == "N"
    assert entry.language_code == "en"
    assert entry.creation_time == context.captured_at
    assert entry.healthcare_facility_type_code.code == "22232009"
    assert entry.practice_setting_code.code == "394609007"  # wound: General surgery
    assert entry.patient_id == entry.source_patient_id == "MRN-0042^^^&1.2.840.99999.7&ISO"
    assert entry.hash == hashlib.sha1(data).hexdigest()
    assert entry.size == len(data)
    assert (entry.author_person, entry.author_institution) == ("NURSE^ANN", "General Hospital")
    assert entry.service_start_time == entry.service_stop_time == context.captured_at
    assert [(c.system, c.code) for c in entry.event_codes] == [
        ("http://snomed.info/sct", "30021000")
    ]
    assert [r.cxi for r in entry.reference_ids] == [
        "ACC-7^^^&1.2.840.99999.7&ISO^urn:ihe:iti:xds:2013:accession",
        "PLC-55^^^&1.2.840.99999.7&ISO^urn:ihe:iti:xds:2013:order",
        "1.2.3.9^^^^urn:ihe:iti:xds:2016:studyInstanceUID",
        "ENC-9^^^&1.2.840.99999.7&ISO^urn:ihe:iti:xds:2015:encounterId",
    ]
    assert _entry(pdf, context, identity) == entry  # a retry describes the same entry


def test_unmapped_issuer_is_refused(pdf: Path, context: CaptureContext) -> None:
    with pytest.raises(
        ContextError, match=re.escape("context.patient.issuer 'HOSP' is not an OID")
    ):
        describe_original(
            pdf,
            context=context,
            media_info=inspect_media(pdf),
            identity=InstanceIdentity.mint(),
            policy=XdsPolicy(source_id="1.2.3"),
        )


def test_issuer_that_is_an_oid_is_used_as_is(pdf: Path, context_json: dict[str, Any]) -> None:
    data = copy.deepcopy(context_json)
    data["patient"]["issuer"] = "1.3.6.1.4.1.21367.13.20.1000"
    entry = _entry(pdf, parse_context(data))
    assert entry.patient_id == "MRN-0042^^^&1.3.6.1.4.1.21367.13.20.1000&ISO"


def test_policy_refuses_a_source_id_that_is_no_oid() -> None:
    with pytest.raises(ContextError, match=re.escape("policy.source_id")):
        XdsPolicy(source_id="hub")


def _resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    [resource] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    return resource


def test_provide_bundle_carries_the_document_and_all_metadata(
    pdf: Path, context: CaptureContext
) -> None:
    entry = _entry(pdf, context)
    data = pdf.read_bytes()
    bundle = mhd_provide_bundle(entry, policy=POLICY, data=data, submitted_at=SUBMITTED)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction" and bundle["meta"]["profile"] == [PROVIDE_BUNDLE]
    assert all(e["request"]["method"] == "POST" for e in bundle["entry"])
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in bundle["entry"])
    # No absolute Patient URL given: the subject is the bundle's own Patient (ITI-65
    # 2:3.65.4.1.2.2), created at the recipient unless one has the patientId.
    (patient_entry,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient_entry["request"]["ifNoneExist"] == (
        "identifier=urn%3Aoid%3A1.2.840.99999.7|MRN-0042"
    )
    assert patient_entry["resource"]["identifier"][0]["value"] == "MRN-0042"

    submission = _resource(bundle, "List")
    assert submission["code"]["coding"][0]["code"] == "submissionset"
    assert (submission["status"], submission["mode"]) == ("current", "working")
    extensions = {x["url"].rsplit("/", 1)[1]: x for x in submission["extension"]}
    assert extensions["ihe-sourceId"]["valueIdentifier"]["value"] == "urn:oid:1.2.3.4.5"
    assert extensions["ihe-designationType"]["valueCodeableConcept"]["coding"][0]["code"]
    assert {i["use"] for i in submission["identifier"]} == {"usual", "official"}
    assert submission["entry"][0]["item"]["reference"] == entry.entry_uuid

    document = _resource(bundle, "DocumentReference")
    assert document["masterIdentifier"]["value"] == f"urn:oid:{entry.unique_id}"
    assert document["identifier"][0] == {
        "use": "official",
        "system": "urn:ietf:rfc:3986",
        "value": entry.entry_uuid,
    }
    assert document["status"] == "current"
    assert document["type"]["coding"][0]["code"] == "34109-9"
    assert document["category"][0]["coding"][0]["code"] == "34109-9"
    assert document["subject"] == {"reference": patient_entry["fullUrl"]}
    assert submission["subject"] == document["subject"]
    assert document["securityLabel"][0]["coding"][0]["code"] == "N"
    # One author with person and institution (ITI TF-3 4.2.3.1.4).
    assert document["author"] == [{"reference": "#author"}]
    contained = {c["id"]: c for c in document["contained"]}
    role = contained["author"]
    assert role["resourceType"] == "PractitionerRole"
    person = contained[role["practitioner"]["reference"][1:]]
    institution = contained[role["organization"]["reference"][1:]]
    assert person["name"][0]["family"] == "NURSE"
    assert institution["name"] == "General Hospital"
    assert submission["source"] == {"reference": "#author"}
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["language"] == "en"
    assert attachment["size"] == len(data)
    assert base64.b64decode(attachment["hash"]) == hashlib.sha1(data).digest()
    assert attachment["creation"] == "2026-11-28T10:15:00+01:00"
    assert attachment["title"] == "Pressure ulcer"
    assert "data" not in attachment
    binary = _resource(bundle, "Binary")
    assert attachment["url"] == next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"] is binary
    )
    assert base64.b64decode(binary["data"]) == data
    assert document["content"][0]["format"]["code"] == "urn:ihe:iti:xds:2017:mimeTypeSufficient"
    ctx = document["context"]
    assert ctx["period"] == {
        "start": "2026-11-28T10:15:00+01:00",
        "end": "2026-11-28T10:15:00+01:00",
    }
    assert ctx["facilityType"]["coding"][0]["code"] == "22232009"
    assert ctx["practiceSetting"]["coding"][0]["code"] == "394609007"
    assert ctx["event"][0]["coding"][0]["code"] == "30021000"
    assert ctx["sourcePatientInfo"] == {"reference": "#source-patient"}
    patient = next(c for c in document["contained"] if c["id"] == "source-patient")
    assert (patient["birthDate"], patient["gender"]) == ("1950-01-31", "female")
    assert ctx["encounter"][0]["identifier"]["value"] == "ENC-9"
    related = {
        r["identifier"]["type"]["coding"][0]["code"]: r["identifier"] for r in ctx["related"]
    }
    assert related["urn:ihe:iti:xds:2013:accession"] == {
        "type": {
            "coding": [{"system": "urn:ietf:rfc:3986", "code": "urn:ihe:iti:xds:2013:accession"}]
        },
        "system": "urn:oid:1.2.840.99999.7",
        "value": "ACC-7",
    }
    assert related["urn:ihe:iti:xds:2016:studyInstanceUID"]["value"] == "1.2.3.9"
    assert "urn:ihe:iti:xds:2013:order" in related


def test_bundle_by_url_and_patient_reference(pdf: Path, context: CaptureContext) -> None:
    entry = _entry(pdf, context)
    bundle = mhd_provide_bundle(
        entry,
        policy=POLICY,
        attachment_url="https://repository.example/docs/1",
        patient_reference="https://emr.example/fhir/Patient/7",
    )
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["List", "DocumentReference"]
    document = _resource(bundle, "DocumentReference")
    assert document["content"][0]["attachment"]["url"] == "https://repository.example/docs/1"
    assert document["subject"] == {"reference": "https://emr.example/fhir/Patient/7"}


def test_bundle_refuses_data_that_is_not_the_described_document(
    pdf: Path, context: CaptureContext
) -> None:
    entry = _entry(pdf, context)
    with pytest.raises(ValueError, match="data differs"):
        mhd_provide_bundle(entry, policy=POLICY, data=pdf.read_bytes() + b" ")
    with pytest.raises(ValueError, match="exactly one"):
        mhd_provide_bundle(entry, policy=POLICY)
