"""POST /api/v1/patients/wounds and a wound's thumbnail: the MRN in the body, the
series across photos of one wound, every read on record."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from hub.audit.models import AuditEvent
from hub.wounds.models import Wound
from tests.encapsulate.measure.scenes import render
from tests.hub.wounds.measured import measured

pytestmark = pytest.mark.django_db

SITE = {"code": "SCT:40983000", "meaning": "Upper arm", "laterality": "R"}


def wounds_of(client: APIClient, mrn: str) -> list[dict]:
    response = client.post("/api/v1/patients/wounds", {"identifier": mrn}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_two_captures_of_one_wound_are_one_wound_with_two_points(
    capturer_client: APIClient,
) -> None:
    first = measured(
        render(seed=3).jpeg(), body_site=SITE, wound={"new": True},
        captured_at="2026-11-20T10:00:00+01:00",
    )  # fmt: skip
    wound = Wound.objects.get()
    second = measured(
        render(seed=4, wound_radius_mm=9).jpeg(), body_site=SITE, wound={"id": str(wound.id)},
        captured_at="2026-11-27T10:00:00+01:00",
    )  # fmt: skip

    (listed,) = wounds_of(capturer_client, "MRN-7")

    assert listed["id"] == str(wound.id)
    assert listed["tracking_uid"] == wound.tracking_uid
    assert listed["tracking_identifier"] == "Wound 1, Upper arm, right"
    assert listed["body_site"] == SITE
    assert [p["capture"] for p in listed["series"]] == [str(first.id), str(second.id)]
    assert [p["date"] for p in listed["series"]] == [
        "2026-11-20T10:00:00+01:00",
        "2026-11-27T10:00:00+01:00",
    ]
    assert [p["area_cm2"] for p in listed["series"]] == [
        first.measurement["area_cm2"],
        second.measurement["area_cm2"],
    ]
    assert listed["series"][1]["area_cm2"] < listed["series"][0]["area_cm2"]  # it heals
    assert {"length_cm", "width_cm", "method"} <= set(listed["series"][0])
    assert listed["last_photo"]["capture"] == str(second.id)
    # As the capture app asks for it: a picture, or the error envelope.
    thumbnail = capturer_client.get(
        listed["last_photo"]["thumbnail"], HTTP_ACCEPT="image/jpeg, application/json"
    )
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.content)).size == (640, 480)
    assert "MRN-7" not in listed["last_photo"]["thumbnail"]
    reads = AuditEvent.objects.filter(action__in=["patient.wounds", "wound.photo.read"])
    assert sorted((e.action, e.patient) for e in reads) == [
        ("patient.wounds", "MRN-7"),
        ("wound.photo.read", "MRN-7"),
    ]


def test_another_patient_has_no_wounds_and_an_unknown_wound_no_photo(
    capturer_client: APIClient,
) -> None:
    measured(render(seed=3).jpeg())

    assert wounds_of(capturer_client, "MRN-8") == []
    missing = capturer_client.get("/api/v1/wounds/not-a-wound/thumbnail")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_the_mrn_is_required_in_the_body(capturer_client: APIClient) -> None:
    response = capturer_client.post("/api/v1/patients/wounds", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "identifier"


def test_the_capture_shows_its_measurement_and_its_wound(capturer_client: APIClient) -> None:
    scene = render(seed=3)
    traced = [[round(x, 1), round(y, 1)] for x, y in scene.outline.tolist()]
    capture = measured(scene.jpeg(), outline={"points": traced})
    capture.created_by = capturer_client.user  # type: ignore[attr-defined]
    capture.save(update_fields=["created_by"])

    shown = capturer_client.get(f"/api/v1/captures/{capture.id}").json()["measurement"]

    assert shown["state"] == "measured"
    assert shown["method"] == "outline"
    assert shown["outline"] == traced
    assert shown["area_cm2"] == capture.measurement["area_cm2"]
    assert shown["wound"] == str(capture.wound_photo.wound_id)
