"""A measured wound photo's write-back: the FHIR engine holds the WoundSize
Observation derived from the photo's ImagingStudy and DocumentReference, and the
ImagingStudy lists the SR in a series of its own."""

from __future__ import annotations

import pytest

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus
from hub.captures.receive import Upload, capture_receive
from hub.emr.writeback import capture_notify_emr
from hub.matching.services import capture_match
from hub.pipeline.measure import capture_measure
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.encapsulate.measure.scenes import render
from tests.hub.matching.fhir_fixtures import Hospital
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db

AREA = "89260-4"


def measured_archived(loaded: Hospital, seed: int = 4, **extra: object) -> Capture:
    photo = render(seed=seed).jpeg()
    context = {
        "patient": {"id": loaded.mrns["jane"], "birth_date": "1970-01-02"},
        "order": {"accession_number": loaded.accessions["jane_wound"]},
        "specialty": "wound",
        "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
        **extra,
    }
    capture = capture_receive(
        user=user_create_or_update(username="nurse", role=Role.CAPTURER),
        upload=Upload(name="wound.jpg", size=len(photo), head=photo[:4096], chunks=[photo]),
        context_data=context,
        max_bytes=10**9,
    ).capture
    assert capture_inspect(capture_id=capture.id)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    assert capture_measure(capture_id=capture.id)
    # Delivery is proven against Orthanc elsewhere; here only the notice matters.
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.ARCHIVED)
    return Capture.objects.get(id=capture.id)


def test_the_emr_gets_the_wound_size_observation_derived_from_the_photo(
    emr: FhirEngine, loaded: Hospital, settings
) -> None:
    settings.HUB_FHIR_WRITEBACK = "documentreference"
    capture = measured_archived(loaded)
    assert capture.measurement_state == "measured", capture.measurement_reason

    assert capture_notify_emr(capture_id=capture.id) is None
    capture_notify_emr(capture_id=capture.id)  # a retried notice creates nothing twice

    sr_uid = capture.measurement_uids["sop_instance_uid"]
    (observation,) = emr.search(f"Observation?identifier=urn:ietf:rfc:3986|urn:oid:{sr_uid}")
    (study,) = emr.search(
        f"ImagingStudy?identifier=urn:dicom:uid|urn:oid:{capture.study_instance_uid}"
    )
    (document,) = emr.search(
        f"DocumentReference?identifier=urn:dicom:uid|urn:oid:{capture.sop_instance_uid}"
    )
    derived = {ref["reference"] for ref in observation["derivedFrom"]}
    assert derived == {f"ImagingStudy/{study['id']}", f"DocumentReference/{document['id']}"}
    assert observation["subject"]["reference"] == capture.match_report["references"]["patient"]
    assert observation["code"]["coding"][0]["code"] == "72287-6"
    (area,) = [c for c in observation["component"] if c["code"]["coding"][0]["code"] == AREA]
    assert area["valueQuantity"]["value"] == pytest.approx(
        capture.measurement["area_cm2"], abs=0.01
    )
    assert observation["bodySite"]["coding"][0]["code"] == "30021000"
    by_uid = {s["uid"]: s for s in study["series"]}
    photo = by_uid[capture.series_instance_uid]
    assert [i["uid"] for i in photo["instance"]] == [capture.sop_instance_uid]
    sr = by_uid[capture.measurement_uids["series_instance_uid"]]
    assert sr["modality"]["code"] == "SR"
    assert [i["uid"] for i in sr["instance"]] == [sr_uid]
    assert (
        f"Observation/{observation['id']}"
        in capture.__class__.objects.get(id=capture.id).emr_notice
    )


def test_two_photos_of_one_wound_focus_one_body_structure(
    emr: FhirEngine, loaded: Hospital, settings
) -> None:
    settings.HUB_FHIR_WRITEBACK = "documentreference"
    first = measured_archived(loaded)
    wound = first.wound_photo.wound
    second = measured_archived(loaded, seed=5, wound={"id": str(wound.id)})

    capture_notify_emr(capture_id=first.id)
    capture_notify_emr(capture_id=second.id)

    (structure,) = emr.search(
        f"BodyStructure?identifier=urn:ietf:rfc:3986|urn:oid:{wound.tracking_uid}"
    )
    assert structure["patient"]["reference"] == first.match_report["references"]["patient"]
    assert structure["location"]["coding"][0]["code"] == "30021000"
    assert structure["locationQualifier"][0]["coding"][0]["code"] == "7771000"
    assert structure["description"] == "Wound 1, Lower leg, left"
    for capture in (first, second):
        sr_uid = capture.measurement_uids["sop_instance_uid"]
        (observation,) = emr.search(f"Observation?identifier=urn:ietf:rfc:3986|urn:oid:{sr_uid}")
        assert observation["focus"] == [{"reference": f"BodyStructure/{structure['id']}"}]
