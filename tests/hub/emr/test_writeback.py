"""After archiving, the EMR is told: a DocumentReference (or Media) and an ImagingStudy."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.captures.models import Capture, CaptureStatus
from hub.emr.client import FhirClient
from hub.emr.writeback import capture_notify_emr, notice_bundle
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import Hospital
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db


def archived(tmp_path: Path, loaded: Hospital) -> Capture:
    context = {
        "patient": {"id": loaded.mrns["jane"], "birth_date": "1970-01-02"},
        "order": {"accession_number": loaded.accessions["jane_wound"]},
        "specialty": "wound",
        "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
        "description": "Pressure ulcer",
    }
    capture = received_capture(tmp_path, context=context, inspected=True)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    # Delivery is proven elsewhere against Orthanc; here only the notice matters.
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.ARCHIVED)
    return Capture.objects.get(id=capture.id)


@pytest.mark.parametrize("kind", ["documentreference", "media"])
def test_the_emr_gets_the_capture_linked_to_patient_order_and_study(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, settings, kind: str
) -> None:
    settings.HUB_FHIR_WRITEBACK = kind
    capture = archived(tmp_path, loaded)

    assert capture_notify_emr(capture_id=capture.id) is None
    capture_notify_emr(capture_id=capture.id)  # a retried notice creates nothing twice

    capture.refresh_from_db()
    study_query = f"urn:dicom:uid|urn:oid:{capture.study_instance_uid}"
    (study,) = emr.search(f"ImagingStudy?identifier={study_query}")
    resource = "DocumentReference" if kind == "documentreference" else "Media"
    (notice,) = emr.search(
        f"{resource}?identifier=urn:dicom:uid|urn:oid:{capture.sop_instance_uid}"
    )
    patient = capture.match_report["references"]["patient"]
    assert study["subject"]["reference"] == patient
    assert study["basedOn"][0]["reference"] == capture.match_report["references"]["order"]
    # Captures of one order share the study: each adds its series once.
    (series,) = [s for s in study["series"] if s["uid"] == capture.series_instance_uid]
    assert [i["uid"] for i in series["instance"]] == [capture.sop_instance_uid]
    assert study["numberOfInstances"] == sum(len(s["instance"]) for s in study["series"])
    assert notice["subject"]["reference"] == patient
    assert f"{resource}/{notice['id']}" in capture.emr_notice


def test_the_notice_is_off_when_configured_off(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, settings
) -> None:
    settings.HUB_FHIR_WRITEBACK = "off"
    capture = archived(tmp_path, loaded)

    capture_notify_emr(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.emr_notice == ""
    assert (
        emr.search(f"DocumentReference?identifier=urn:dicom:uid|urn:oid:{capture.sop_instance_uid}")
        == []
    )


def test_a_series_lost_to_a_concurrent_writer_is_merged_again(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another notice of the same study wrote over this one's series: retry, then it lands."""
    capture = archived(tmp_path, loaded)
    real = FhirClient.find_imaging_studies
    calls: list[int] = []

    def lost_on_read_back(self: FhirClient, uid: str) -> list[dict]:
        calls.append(1)
        studies = real(self, uid)
        if len(calls) == 2:  # the read-back after the write: as if overwritten
            return [{**s, "series": []} for s in studies]
        return studies

    monkeypatch.setattr(FhirClient, "find_imaging_studies", lost_on_read_back)
    retry_in = capture_notify_emr(capture_id=capture.id)
    monkeypatch.setattr(FhirClient, "find_imaging_studies", real)

    capture.refresh_from_db()
    assert retry_in is not None
    assert capture.emr_notice.startswith("waiting: the ImagingStudy was written concurrently")
    assert capture_notify_emr(capture_id=capture.id) is None
    (study,) = emr.search(
        f"ImagingStudy?identifier=urn:dicom:uid|urn:oid:{capture.study_instance_uid}"
    )
    assert capture.series_instance_uid in {s["uid"] for s in study["series"]}


ARCHIVE = "http://archive.example/dicom-web"


def _is_rfc4122_urn(value: str) -> bool:
    prefix, _, rest = value.partition("urn:uuid:")
    try:
        parsed = uuid.UUID(rest)
    except ValueError:
        return False
    return prefix == "" and str(parsed) == rest and parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize("kind", ["documentreference", "media"])
def test_the_notice_links_the_archive_honestly(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, settings, kind: str
) -> None:
    settings.HUB_FHIR_WRITEBACK = kind
    settings.HUB_STOWRS_URL = f"{ARCHIVE}/studies"
    settings.HUB_VIEWER_URL = "https://viewer.example/study/"
    capture = archived(tmp_path, loaded)
    bundle = notice_bundle(capture, capture.match_report["references"], kind)

    assert all(_is_rfc4122_urn(entry["fullUrl"]) for entry in bundle["entry"])
    Bundle.model_validate(bundle)  # valid R4(B)
    by_type = {entry["resource"]["resourceType"]: entry for entry in bundle["entry"]}
    endpoint = by_type["Endpoint"]["resource"]
    assert (endpoint["address"], endpoint["connectionType"]["code"]) == (ARCHIVE, "dicom-wado-rs")
    study = by_type["ImagingStudy"]["resource"]
    assert study["endpoint"] == [{"reference": by_type["Endpoint"]["fullUrl"]}]
    (accession,) = [i for i in study["identifier"] if i.get("type")]
    assert accession["type"]["coding"][0]["code"] == "ACSN"
    assert accession["value"] == loaded.accessions["jane_wound"]
    if kind == "media":
        content = by_type["Media"]["resource"]["content"]
        assert content["url"] == (
            f"{ARCHIVE}/studies/{capture.study_instance_uid}/series/"
            f"{capture.series_instance_uid}/instances/{capture.sop_instance_uid}"
        )
        assert content["contentType"] == 'multipart/related; type="application/dicom"'
    else:
        attachment = by_type["DocumentReference"]["resource"]["content"][0]["attachment"]
        assert attachment["url"] == f"https://viewer.example/study/{capture.study_instance_uid}"
        assert attachment["contentType"] == "text/html"  # a viewer page, not DICOM

    # The EMR takes it, and a retry creates no second Endpoint.
    assert capture_notify_emr(capture_id=capture.id) is None
    capture_notify_emr(capture_id=capture.id)
    assert len(emr.search(f"Endpoint?identifier=urn:ietf:rfc:3986|{ARCHIVE}")) == 1
    (stored,) = emr.search(
        f"ImagingStudy?identifier=urn:dicom:uid|urn:oid:{capture.study_instance_uid}"
    )
    assert stored["endpoint"][0]["reference"].startswith("Endpoint/")


def test_without_a_viewer_the_document_points_at_wado_rs(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, settings
) -> None:
    settings.HUB_STOWRS_URL = f"{ARCHIVE}/studies"
    settings.HUB_VIEWER_URL = None
    capture = archived(tmp_path, loaded)
    bundle = notice_bundle(capture, capture.match_report["references"], "documentreference")
    (document,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    attachment = document["content"][0]["attachment"]
    assert attachment["url"] == f"{ARCHIVE}/studies/{capture.study_instance_uid}"
    assert attachment["contentType"] == 'multipart/related; type="application/dicom"'
