"""Operators find captures by what they know (MRN, name, accession) and see their queues."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db
LIST = "/admin/captures/capture/"


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(user_create_or_update(username="ops", role=Role.OPERATOR))
    return client


def capture_of(tmp_path: Path, mrn: str, **context: object) -> Capture:
    patient = {"id": mrn, **context.pop("patient", {})}  # type: ignore[dict-item]
    return received_capture(tmp_path / mrn, context={"patient": patient, **context})


def listed(page: bytes, capture: Capture) -> bool:
    return f"/admin/captures/capture/{capture.pk}/change/".encode() in page


def test_search_finds_a_capture_by_mrn_name_and_accession(tmp_path: Path, operator: Client) -> None:
    jane = capture_of(
        tmp_path,
        "MRN-0042",
        patient={"name": "Doe^Jane"},
        order={"accession_number": "ACC-7"},
        specialty="wound",
    )
    john = capture_of(tmp_path, "MRN-0077", patient={"name": "Roe^John"})

    for query in ("MRN-0042", "doe^jane", "ACC-7"):
        page = operator.get(LIST, {"q": query}).content
        assert listed(page, jane), query
        assert not listed(page, john), query


def test_the_list_shows_patient_body_site_specialty_status_with_reason_and_a_thumbnail(
    tmp_path: Path, operator: Client
) -> None:
    capture = capture_of(
        tmp_path,
        "MRN-0042",
        patient={"name": "Doe^Jane"},
        specialty="wound",
        body_site={"code": "SCT:80144004", "meaning": "Calcaneus"},
    )
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.FAILED, reason="archive down")

    page = operator.get(LIST).content.decode()

    assert "Doe^Jane (MRN-0042)" in page
    assert "Calcaneus" in page
    assert "wound" in page
    assert "failed: archive down" in page
    thumbnail = f"/admin/captures/capture/{capture.pk}/reconcile/thumbnail/"
    assert thumbnail in page
    assert operator.get(thumbnail)["Content-Type"] == "image/jpeg"


def test_filters_by_specialty_and_by_source(tmp_path: Path, operator: Client) -> None:
    wound = capture_of(tmp_path, "MRN-1", specialty="wound")
    derm = capture_of(tmp_path, "MRN-2", specialty="dermatology")

    page = operator.get(LIST, {"specialty": "wound"}).content
    assert listed(page, wound) and not listed(page, derm)
    people = operator.get(LIST, {"source": "person"}).content
    assert listed(people, wound) and listed(people, derm)
    assert not listed(operator.get(LIST, {"source": "device"}).content, wound)


def test_filters_by_department(tmp_path: Path, operator: Client) -> None:
    ward = capture_of(tmp_path, "MRN-1", specialty="wound", department="Ward 7")
    clinic = capture_of(tmp_path, "MRN-2", specialty="wound", department="Dermatology clinic")
    none = capture_of(tmp_path, "MRN-3", specialty="wound")

    listing = operator.get(LIST).content
    assert b"?department=Ward+7" in listing and b"?department=Dermatology+clinic" in listing
    page = operator.get(LIST, {"department": "Ward 7"}).content
    assert listed(page, ward) and not listed(page, clinic) and not listed(page, none)


def test_the_front_page_counts_each_queue_and_links_to_it(tmp_path: Path, operator: Client) -> None:
    unmatched = capture_of(tmp_path, "MRN-1")
    waiting = capture_of(tmp_path, "MRN-2")
    slow = capture_of(tmp_path, "MRN-3")
    capture_of(tmp_path, "MRN-4")  # just received: in no queue
    Capture.objects.filter(id=unmatched.id).update(status=CaptureStatus.UNMATCHED)
    Capture.objects.filter(id=waiting.id).update(status=CaptureStatus.INSPECTED, match_attempts=3)
    Capture.objects.filter(id=slow.id).update(
        status=CaptureStatus.DELIVERING, updated_at=timezone.now() - timedelta(hours=2)
    )

    front = operator.get("/admin/").content.decode()

    for label, count, query, expected in [
        ("Unmatched", 1, "status__exact=unmatched", unmatched),
        ("Failed", 0, "status__exact=failed", None),
        ("Waiting on the EMR or worklist", 1, "attention=waiting", waiting),
        ("Delivering for more than an hour", 1, "attention=delivering", slow),
    ]:
        url = f"{LIST}?{query}"
        assert f'<a href="{url}">{label}</a></th><td>{count}</td>' in front, label
        if expected is not None:
            page = operator.get(url).content
            assert listed(page, expected), label
            assert len([c for c in Capture.objects.all() if listed(page, c)]) == count, label


def test_captures_no_emr_verified_are_marked_in_the_list_and_filtered_on(
    tmp_path: Path, operator: Client, settings
) -> None:
    settings.HUB_FHIR_URL = None
    typed = capture_of(tmp_path, "MRN-0042", patient={"birth_date": "1950-01-31"})
    settings.HUB_FHIR_URL = "http://127.0.0.1:9/fhir"  # receipt only asks whether one is set
    checked = capture_of(tmp_path, "MRN-0077")
    assert (typed.identity_unverified, checked.identity_unverified) == (True, False)

    whole = operator.get(LIST).content.decode()
    unverified = operator.get(LIST, {"identity": "unverified"}).content
    verified = operator.get(LIST, {"identity": "verified"}).content

    assert whole.count('<td class="field-identity">not verified against an EMR</td>') == 1
    assert listed(unverified, typed) and not listed(unverified, checked)
    assert listed(verified, checked) and not listed(verified, typed)
