"""Capture sessions through the API: opening one, and the captures it refuses."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.audit.models import AuditEvent
from hub.captures.models import Capture
from tests.capture_api.tus_helpers import TUS, metadata_header
from tests.conftest import api_client_for
from tests.media import make_jpeg

pytestmark = pytest.mark.django_db

PATIENT = {"id": "MRN-7", "issuer": "HOSP", "name": "ROE^ANN", "birth_date": "1961-03-04"}


@pytest.fixture
def photo(tmp_path: Path) -> bytes:
    return make_jpeg(tmp_path / "p.jpg", width=32, height=24).read_bytes()


@pytest.fixture(autouse=True)
def _no_emr(settings, private_data_dir: Path) -> None:
    settings.HUB_FHIR_URL = None


def post_capture(client: APIClient, photo: bytes, context: dict):
    content = BytesIO(photo)
    content.name = "p.jpg"
    return client.post(
        "/api/v1/captures", {"file": content, "context": json.dumps(context)}, format="multipart"
    )


def open_session(client: APIClient, body: dict | None = None) -> str:
    response = client.post("/api/v1/sessions", body or {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def refusal(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]


def test_an_empty_body_opens_a_session_without_a_patient(capturer_client: APIClient) -> None:
    response = capturer_client.post("/api/v1/sessions", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["patient"] is None and body["captures"] == []
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/v1/sessions/{body['id']}")


def test_a_session_opened_for_a_patient_answers_it_in_the_context_form(
    capturer_client: APIClient,
) -> None:
    session = open_session(capturer_client, {"patient": PATIENT})

    patient = capturer_client.get(f"/api/v1/sessions/{session}").json()["patient"]
    assert patient == {**PATIENT, "sex": None}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"patient": {"name": "ROE^ANN"}}, "context_invalid", "patient"),
        ({"patient": PATIENT, "extra": 1}, "invalid_request", "extra"),
    ],
)
def test_a_bad_session_body_is_refused_in_the_envelope(
    capturer_client: APIClient, body: dict, code: str, field: str
) -> None:
    error = refusal(capturer_client.post("/api/v1/sessions", body, format="json"))

    assert (error["code"], error["field"], error["retryable"]) == (code, field, False)


def test_captures_of_a_session_carry_it_and_are_listed_by_it(
    capturer_client: APIClient, photo: bytes
) -> None:
    session = open_session(capturer_client, {"patient": PATIENT})

    response = post_capture(capturer_client, photo, {"session": session, "patient": PATIENT})

    assert response.status_code == 201, response.content
    assert response.json()["context"]["session"] == session
    capture = Capture.objects.get(pk=response.json()["id"])
    assert str(capture.session_id) == session
    assert capture.received_context["session"] == session
    listed = capturer_client.get(f"/api/v1/sessions/{session}").json()["captures"]
    assert listed == [str(capture.pk)]


def test_another_users_session_is_refused_as_an_unknown_one(
    capturer_client: APIClient, photo: bytes
) -> None:
    theirs = open_session(api_client_for("other-nurse", Role.CAPTURER), {"patient": PATIENT})
    unknown = "5b1d0c1e-8a5e-4d8e-9d9a-2f0c4e1b7a33"

    errors = [
        refusal(post_capture(capturer_client, photo, {"session": s, "patient": PATIENT}))
        for s in (theirs, unknown, "not-a-uuid")
    ]

    assert {(e["code"], e["field"]) for e in errors} == {("session_invalid", "context.session")}
    # The same words for someone else's session and for none at all: no id is confirmed.
    assert errors[0]["message"].replace(theirs, "?") == errors[1]["message"].replace(unknown, "?")
    assert not Capture.objects.exists()


def test_a_capture_of_another_patient_is_refused(capturer_client: APIClient, photo: bytes) -> None:
    session = open_session(capturer_client, {"patient": PATIENT})
    other = {**PATIENT, "id": "MRN-8"}

    error = refusal(post_capture(capturer_client, photo, {"session": session, "patient": other}))

    assert (error["code"], error["field"]) == ("session_invalid", "context.session")
    assert "another patient" in error["message"]


def test_an_empty_session_takes_its_first_captures_patient_and_then_only_that_one(
    capturer_client: APIClient, photo: bytes
) -> None:
    session = open_session(capturer_client)

    first = post_capture(capturer_client, photo, {"session": session, "patient": PATIENT})
    other = {**PATIENT, "issuer": "OTHER"}  # the same id under another issuer is someone else
    second = post_capture(capturer_client, photo, {"session": session, "patient": other})

    assert first.status_code == 201, first.content
    assert refusal(second)["code"] == "session_invalid"
    assert capturer_client.get(f"/api/v1/sessions/{session}").json()["patient"]["id"] == "MRN-7"


def test_a_device_context_cannot_join_a_session(capturer_client: APIClient, photo: bytes) -> None:
    session = open_session(capturer_client)
    device = {"session": session, "device": {"station_aet": "ENDO1"}, "specialty": "endoscopy"}

    assert refusal(post_capture(capturer_client, photo, device))["code"] == "session_invalid"


def test_tus_refuses_another_users_session_before_a_byte_is_sent(
    capturer_client: APIClient,
) -> None:
    theirs = open_session(api_client_for("other-nurse", Role.CAPTURER), {"patient": PATIENT})
    context = {"session": theirs, "patient": PATIENT}

    response = capturer_client.post(
        "/api/v1/uploads/",
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": metadata_header(context=context)},
    )

    error = refusal(response)
    assert (error["code"], error["field"]) == ("session_invalid", "context.session")


# Identity not verified against an EMR


@pytest.fixture
def birth_date_rule(settings) -> None:
    settings.HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR = True


@pytest.mark.usefixtures("birth_date_rule")
def test_without_an_emr_an_mrn_alone_is_refused_for_want_of_a_birth_date(
    capturer_client: APIClient, photo: bytes
) -> None:
    error = refusal(post_capture(capturer_client, photo, {"patient": {"id": "MRN-7"}}))

    assert (error["code"], error["field"]) == ("birth_date_required", "context.patient.birth_date")
    session_error = refusal(
        capturer_client.post("/api/v1/sessions", {"patient": {"id": "MRN-7"}}, format="json")
    )
    assert session_error["code"] == "birth_date_required"


@pytest.mark.usefixtures("birth_date_rule")
def test_without_an_emr_a_capture_is_flagged_unverified_in_the_answer_and_the_audit(
    capturer_client: APIClient, photo: bytes
) -> None:
    response = post_capture(capturer_client, photo, {"patient": PATIENT})

    assert response.status_code == 201, response.content
    assert response.json()["identity_unverified"] is True
    event = AuditEvent.objects.get(action="capture.create", capture_id=response.json()["id"])
    assert "identity not verified against an EMR" in event.note


@pytest.mark.usefixtures("birth_date_rule")
def test_with_an_emr_the_capture_is_not_flagged_and_needs_no_birth_date(
    settings, capturer_client: APIClient, photo: bytes
) -> None:
    # Receipt never asks the EMR (the match step does): any URL says "one is configured".
    settings.HUB_FHIR_URL = "http://127.0.0.1:9/fhir"

    response = post_capture(capturer_client, photo, {"patient": {"id": "MRN-7"}})

    assert response.status_code == 201, response.content
    assert response.json()["identity_unverified"] is False
    event = AuditEvent.objects.get(action="capture.create", capture_id=response.json()["id"])
    assert "not verified" not in event.note
