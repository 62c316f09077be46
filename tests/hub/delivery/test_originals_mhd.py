"""Originals with XDS metadata, delivered over MHD (ITI-65) to a real FHIR engine."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hub.captures.models import CaptureStatus, OriginalDocument
from hub.captures.storage import data_path
from hub.delivery.services import capture_deliveries_start, delivery_attempt
from hub.env import parse_originals_policy
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate
from tests.dicom_checks import assert_no_private_metadata
from tests.hub.factories import received_capture
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db

CONTEXT = {
    "patient": {"id": "MRN-X1", "issuer": "HOSP", "name": "DOE^JANE"},
    "specialty": "dermatology",
    "body_site": {"code": "SCT:39937001", "meaning": "Skin", "laterality": "L"},
    "operator": "NURSE^ANN",
    "institution": "General Hospital",
    "captured_at": "2026-11-28T10:15:00+01:00",
}


@pytest.fixture
def mhd(settings, fhir_engine: FhirEngine) -> FhirEngine:
    settings.HUB_FHIR_URL = None
    settings.HUB_STOWRS_URL = None
    settings.HUB_MHD_URL = fhir_engine.base_url
    settings.HUB_XDS_SOURCE_ID = "1.2.826.0.1.3680043.10.1234"
    settings.HUB_XDS_ASSIGNING_AUTHORITIES = {"HOSP": "1.2.826.0.1.3680043.10.1234.1"}
    settings.HUB_ORIGINALS_BY_SPECIALTY = parse_originals_policy("T", "dicom,dermatology:original")
    return fhir_engine


def test_parse_originals_policy() -> None:
    policy = parse_originals_policy("X", "dicom,pocus:both,dermatology:original")
    assert policy["pocus"] == ("dicom", "original")
    assert policy["dermatology"] == ("original",)
    assert policy["wound"] == ("dicom",)
    for bad in ("dicom,astrology:both", "dicom,wound:pdf"):
        with pytest.raises(ImproperlyConfigured):
            parse_originals_policy("X", bad)


@pytest.mark.parametrize("inline_max", [8 * 1024 * 1024, 0], ids=["inline", "streamed-binary"])
def test_an_original_goes_to_the_mhd_recipient_with_its_metadata(
    tmp_path: Path, mhd: FhirEngine, settings, inline_max: int
) -> None:
    settings.HUB_MHD_INLINE_MAX_BYTES = inline_max
    capture = received_capture(tmp_path, context=CONTEXT, inspected=True)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)

    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    outcome = delivery_attempt(delivery_id=delivery_id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ARCHIVED, capture.deliveries.get().last_error
    assert outcome.archived
    assert not capture.instances.exists()  # dermatology: the original only
    kept = OriginalDocument.objects.get(capture=capture)
    sent = data_path(kept.path).read_bytes()
    assert_no_private_metadata(sent)
    # MHD carries the DocumentEntry's uniqueId (the capture's SOP Instance UID) as
    # masterIdentifier, which R4's DocumentReference `identifier` search covers too.
    unique_id = f"urn:oid:{capture.sop_instance_uid}"
    found = mhd.search(f"DocumentReference?identifier=urn:ietf:rfc:3986|{unique_id}")
    ours = [r for r in found if r.get("masterIdentifier", {}).get("value") == unique_id]
    assert len(ours) == 1, f"the recipient has no single DocumentReference {unique_id}: {found}"
    (reference,) = ours
    attachment = reference["content"][0]["attachment"]
    assert attachment["contentType"] == "image/jpeg"
    assert attachment["size"] == len(sent)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(sent).digest()).decode()
    assert attachment["url"].startswith("Binary/")
    assert base64.b64decode(mhd.read(attachment["url"])["data"]) == sent
    assert reference["masterIdentifier"] == {
        "use": "usual",
        "system": "urn:ietf:rfc:3986",
        "value": unique_id,
    }
    assert reference["subject"]  # the patient, by the MRN in the hospital's domain
    submissions = [
        entry
        for entry in mhd.search("List?_count=500")
        if any(
            item["item"]["reference"] == f"DocumentReference/{reference['id']}"
            for item in entry.get("entry", [])
        )
    ]
    assert [s["code"]["coding"][0]["code"] for s in submissions] == ["submissionset"]
