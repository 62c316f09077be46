"""The upload endpoint: what it accepts, what it refuses, and that a refusal keeps nothing."""

from __future__ import annotations

import hashlib
import json
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.conftest import api_client_for
from tests.media import make_jpeg

CONTEXT = {
    "patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE", "sex": "F"},
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
}
URL = "/api/v1/captures"


@pytest.fixture
def photo(tmp_path: Path) -> bytes:
    return make_jpeg(tmp_path / "photo.jpg", width=320, height=240, orientation=6).read_bytes()


def post(
    client: APIClient,
    content: bytes,
    *,
    name: str = "photo.jpg",
    context: object = CONTEXT,
    **headers: str,
):
    data: dict[str, object] = {"file": BytesIO(content)}
    data["file"].name = name  # type: ignore[attr-defined]
    if context is not None:
        data["context"] = context if isinstance(context, str) else json.dumps(context)
    return client.post(URL, data, format="multipart", headers=headers)


def originals() -> list[Path]:
    root = settings.HUB_DATA_DIR / "originals"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_upload_is_stored_durably_and_described(
    capturer_client: APIClient, photo: bytes, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(capturer_client, photo)

    assert response.status_code == 201, response.content
    body = response.json()
    capture = Capture.objects.get(id=body["id"])
    assert body["status"] == "received"
    assert body["url"].endswith(f"/api/v1/captures/{capture.id}")
    assert response["Location"] == body["url"]
    assert data_path(capture.original_path).read_bytes() == photo
    assert body["original"]["size"] == len(photo)
    assert body["original"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert capture.mime_type == "image/jpeg"
    assert body["dicom"]["sop_instance_uid"] == capture.sop_instance_uid
    assert len(callbacks) == 1  # the pipeline starts once the row is committed


@pytest.mark.django_db
def test_idempotency_key_returns_the_first_capture(
    capturer_client: APIClient, photo: bytes
) -> None:
    first = post(capturer_client, photo, **{"Idempotency-Key": "k-1"})
    again = post(capturer_client, photo, **{"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Capture.objects.count() == 1
    assert len(originals()) == 1


@pytest.mark.django_db
def test_idempotency_key_reused_for_another_file_is_refused(
    capturer_client: APIClient, photo: bytes
) -> None:
    post(capturer_client, photo, **{"Idempotency-Key": "k-2"})
    longer = post(capturer_client, photo + b"\0", **{"Idempotency-Key": "k-2"})
    same_size = post(capturer_client, photo[:-3] + b"\x00\xff\xd9", **{"Idempotency-Key": "k-2"})

    assert longer.status_code == same_size.status_code == 422
    for refused in (longer, same_size):
        error = refused.json()["error"]
        assert (error["code"], error["field"], error["retryable"]) == (
            "idempotency_key_reused",
            "file",
            False,
        )
        assert "Idempotency-Key" in error["message"]
    assert Capture.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "context", "status", "code", "field", "words"),
    [
        (b"", CONTEXT, 400, "file_invalid", "file", "empty"),
        (
            b"just some notes, not a photo\n" * 20,
            CONTEXT,
            415,
            "file_type_unsupported",
            "file",
            "text",
        ),
        (None, None, 400, "context_invalid", "context", "required"),
        (None, "{not json", 400, "context_invalid", "context", "not valid JSON"),
        (None, {"specialty": "wound"}, 400, "context_invalid", "context", "patient"),
        (
            None,
            {"patient": {"id": "X"}, "specialty": "astrology"},
            400,
            "context_invalid",
            "context",
            "specialty",
        ),
        (
            None,
            {"patient": {"id": "X"}, "colour": "red"},
            400,
            "context_invalid",
            "context",
            "colour",
        ),
    ],
    ids=[
        "empty",
        "text-named-jpg",
        "no-context",
        "malformed-json",
        "no-patient",
        "bad-specialty",
        "unknown-key",
    ],
)
@pytest.mark.django_db
def test_bad_input_is_refused_and_nothing_is_kept(
    capturer_client: APIClient, photo: bytes, content, context, status, code, field, words
) -> None:
    response = post(capturer_client, photo if content is None else content, context=context)

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert (error["code"], error["field"], error["retryable"]) == (code, field, False)
    assert words.lower() in error["message"].lower()
    assert Capture.objects.count() == 0
    assert originals() == []


@pytest.mark.django_db
def test_no_file_part_is_refused(capturer_client: APIClient) -> None:
    response = capturer_client.post(URL, {"context": json.dumps(CONTEXT)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "No file was submitted.",
        "field": "file",
        "retryable": False,
    }


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("Token not-a-real-token", "authentication_failed"),
        # Not a scheme the hub reads: as good as no token at all.
        ("Bearer abc", "not_authenticated"),
    ],
)
@pytest.mark.django_db
def test_without_a_valid_token_nothing_is_accepted(
    photo: bytes, authorization: str | None, code: str
) -> None:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = post(client, photo)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == code
    assert (error["field"], error["retryable"]) == ("Authorization", False)
    assert response["WWW-Authenticate"] == "Token"
    assert Capture.objects.count() == 0
    assert originals() == []


@pytest.mark.django_db
def test_capturers_see_their_own_captures_operators_see_all(
    capturer_client: APIClient, operator_client: APIClient, photo: bytes
) -> None:
    capture_id = post(capturer_client, photo).json()["id"]
    other = api_client_for("other-nurse", Role.CAPTURER)

    assert capturer_client.get(f"{URL}/{capture_id}").status_code == 200
    hidden = other.get(f"{URL}/{capture_id}")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert operator_client.get(f"{URL}/{capture_id}").status_code == 200
    assert [c["id"] for c in operator_client.get(URL).json()["results"]] == [capture_id]
    assert other.get(URL).json()["results"] == []


@pytest.mark.django_db
def test_schema_and_docs_are_served(capturer_client: APIClient) -> None:
    schema = capturer_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/captures" in schema.json()["paths"]
    docs = capturer_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
