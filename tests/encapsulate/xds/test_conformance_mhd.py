"""MHD ITI-65: a subject the recipient can resolve, one author, and class and type
codes per specialty (never "Radiology studies" for a wound photo)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from encapsulate import (
    CaptureContext,
    InstanceIdentity,
    Specialty,
    XdsPolicy,
    describe_original,
    inspect_media,
    mhd_provide_bundle,
)
from tests.media import make_jpeg

POLICY = XdsPolicy(source_id="1.2.3.4.5", assigning_authorities={"HOSP": "1.2.840.99999.7"})
EXPECTED = {  # (typeCode, classCode), the table in encapsulate/xds/policy.py
    Specialty.WOUND: ("72170-4", "34775-7"),
    Specialty.BURN: ("72170-4", "34775-7"),
    Specialty.DERMATOLOGY: ("72170-4", "28634-4"),
    Specialty.DERMOSCOPY: ("72170-4", "28634-4"),
    Specialty.GENERAL: ("72170-4", "28634-4"),
    Specialty.OPHTHALMOLOGY: ("72170-4", "28619-5"),
    Specialty.ENDOSCOPY: ("18751-8", "27895-2"),
    Specialty.POCUS: ("18748-4", "18726-0"),
}


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_jpeg(tmp_path_factory.mktemp("m") / "p.jpg", width=64, height=48)


def _bundle(photo: Path, context: CaptureContext, **options: str) -> dict:
    entry = describe_original(
        photo,
        context=context,
        media_info=inspect_media(photo),
        identity=InstanceIdentity.mint(),
        policy=POLICY,
    )
    bundle = mhd_provide_bundle(entry, policy=POLICY, data=photo.read_bytes(), **options)
    Bundle.model_validate(bundle)
    return bundle


def _document(bundle: dict) -> dict:
    (document,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    return document


@pytest.mark.parametrize("specialty", list(Specialty))
def test_codes_follow_the_specialty(photo, context, specialty) -> None:
    document = _document(_bundle(photo, dataclasses.replace(context, specialty=specialty)))
    codes = (document["type"]["coding"][0]["code"], document["category"][0]["coding"][0]["code"])
    assert codes == EXPECTED[specialty]
    if specialty in (Specialty.WOUND, Specialty.BURN):
        assert codes[1] != "18726-0"  # not a radiology study


def test_a_relative_emr_reference_is_not_the_subject(photo, context) -> None:
    bundle = _bundle(photo, context, patient_reference="Patient/123")
    document = _document(bundle)
    subject = document["subject"]["reference"]
    (patient,) = [e for e in bundle["entry"] if e["fullUrl"] == subject]
    assert patient["resource"]["resourceType"] == "Patient"
    assert "Patient/123" not in str(bundle)


def test_an_absolute_reference_is_used_as_is(photo, context) -> None:
    url = "https://mpi.example/fhir/Patient/7"
    bundle = _bundle(photo, context, patient_reference=url)
    assert _document(bundle)["subject"] == {"reference": url}
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]


def test_one_author_even_without_a_person(photo, context) -> None:
    document = _document(_bundle(photo, dataclasses.replace(context, operator=None)))
    assert document["author"] == [{"reference": "#author"}]
    (author,) = [c for c in document["contained"] if c["id"] == "author"]
    assert (author["resourceType"], author["name"]) == ("Organization", "General Hospital")
