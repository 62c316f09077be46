"""The one error envelope: every kind of error of /api/v1/, and its place in the schema."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from capture_api.errors import is_retryable
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture
from tests.capture_api.tus_helpers import OCTETS, TUS, checksum_header, metadata_header
from tests.media import make_jpeg

CONTEXT = {"patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE", "sex": "F"}}
CAPTURES = "/api/v1/captures"
UPLOADS = "/api/v1/uploads/"
LOOK_UP_ERRORS = {"400", "401", "403", "404", "415", "429", "501", "502", "503"}

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    """The envelope's error, after checking the envelope has exactly its four keys."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field", "retryable"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def fault(response) -> tuple[int, str, str | None, bool]:
    error = error_of(response)
    return response.status_code, error["code"], error["field"], error["retryable"]


@pytest.fixture
def photo(tmp_path: Path) -> bytes:
    return make_jpeg(tmp_path / "photo.jpg", width=64, height=48).read_bytes()


def post(client: APIClient, content: bytes, **headers: str):
    file = BytesIO(content)
    file.name = "photo.jpg"
    data = {"file": file, "context": json.dumps(CONTEXT)}
    return client.post(CAPTURES, data, format="multipart", headers=headers)


def tus_create(client: APIClient, length: int, **headers: str):
    all_headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata_header()}
    return client.post(UPLOADS, headers={**all_headers, **headers})


def tus_patch(client: APIClient, url: str, offset: int, chunk: bytes, **headers: str):
    all_headers = {**TUS, "Upload-Offset": str(offset), **headers}
    return client.generic("PATCH", url, chunk, content_type=OCTETS, headers=all_headers)


# ---- the capture API ----------------------------------------------------------


def test_a_validation_error_names_the_field(capturer_client: APIClient) -> None:
    response = capturer_client.post(CAPTURES, {"context": "{}"}, format="multipart")
    assert fault(response) == (400, "invalid_request", "file", False)


def test_a_body_of_the_wrong_content_type_is_415(capturer_client: APIClient) -> None:
    response = capturer_client.post(CAPTURES, {"context": CONTEXT}, format="json")
    assert fault(response) == (415, "content_type_unsupported", "Content-Type", False)


def test_a_file_too_large_is_413(capturer_client: APIClient, photo: bytes, settings) -> None:
    settings.HUB_MAX_UPLOAD_BYTES = len(photo) - 1
    response = post(capturer_client, photo)
    assert fault(response) == (413, "file_too_large", "file", False)
    assert f"at most {len(photo) - 1}" in error_of(response)["message"]


def test_a_file_of_no_media_type_is_415(capturer_client: APIClient) -> None:
    response = post(capturer_client, b"minutes of the ward meeting\n" * 20)
    assert fault(response) == (415, "file_type_unsupported", "file", False)


def test_an_idempotency_key_reused_for_other_content_is_422(
    capturer_client: APIClient, photo: bytes
) -> None:
    assert post(capturer_client, photo, **{"Idempotency-Key": "k"}).status_code == 201
    response = post(capturer_client, photo + b"\0", **{"Idempotency-Key": "k"})
    assert fault(response) == (422, "idempotency_key_reused", "file", False)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "not_authenticated"), ("Token wrong", "authentication_failed")],
)
def test_without_a_valid_token_it_is_401(authorization: str | None, code: str) -> None:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get(CAPTURES)
    assert fault(response) == (401, code, "Authorization", False)
    assert response["WWW-Authenticate"] == "Token"


def test_a_session_without_its_csrf_token_is_403(photo: bytes) -> None:
    user = user_create_or_update(username="ward-pc", role=Role.CAPTURER)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, photo)
    assert fault(response) == (403, "permission_denied", "Authorization", False)
    assert "CSRF" in error_of(response)["message"]
    assert Capture.objects.count() == 0


def test_a_capture_not_found_is_404(capturer_client: APIClient) -> None:
    response = capturer_client.get(f"{CAPTURES}/00000000-0000-4000-8000-000000000000")
    assert fault(response) == (404, "not_found", None, False)


def test_a_method_not_allowed_is_405(capturer_client: APIClient) -> None:
    response = capturer_client.delete(CAPTURES)
    assert fault(response) == (405, "method_not_allowed", None, False)


def test_wrong_credentials_for_a_token_are_400(db: None) -> None:
    user_create_or_update(username="nurse.al", role=Role.CAPTURER, password="a-long-passphrase")
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "nurse.al", "password": "wrong"}, format="json"
    )
    assert fault(response) == (400, "credentials_invalid", None, False)
    right = APIClient().post(
        "/api/v1/auth/token",
        {"username": "nurse.al", "password": "a-long-passphrase"},
        format="json",
    )
    assert right.status_code == 200 and right.json()["token"]


def test_a_missing_token_field_names_it(db: None) -> None:
    response = APIClient().post("/api/v1/auth/token", {"username": "x"}, format="json")
    assert fault(response) == (400, "invalid_request", "password", False)


# ---- tus: the same envelope, with tus's statuses and headers ---------------------


def test_tus_creation_refusals_are_enveloped(capturer_client: APIClient) -> None:
    bad_metadata = tus_create(capturer_client, 100, **{"Upload-Metadata": "filename !!!"})
    assert fault(bad_metadata) == (400, "header_invalid", "Upload-Metadata", False)
    assert bad_metadata["Tus-Resumable"] == "1.0.0"
    bad_context = tus_create(
        capturer_client, 100, **{"Upload-Metadata": metadata_header(context={"x": 1})}
    )
    assert fault(bad_context) == (400, "context_invalid", "context", False)
    version = tus_create(capturer_client, 100, **{"Tus-Resumable": "0.2.2"})
    assert fault(version) == (412, "tus_version_unsupported", "Tus-Resumable", False)
    assert version["Tus-Version"] == "1.0.0"
    too_large = tus_create(capturer_client, settings.HUB_MAX_UPLOAD_BYTES + 1)
    assert fault(too_large) == (413, "file_too_large", "Upload-Length", False)
    assert fault(tus_create(APIClient(), 100)) == (401, "not_authenticated", "Authorization", False)


def test_tus_patch_refusals_say_which_are_worth_retrying(
    capturer_client: APIClient, photo: bytes
) -> None:
    url = tus_create(capturer_client, len(photo))["Location"]
    assert tus_patch(capturer_client, url, 0, photo[:100]).status_code == 204

    conflict = tus_patch(capturer_client, url, 0, photo[:100])
    assert fault(conflict) == (409, "upload_offset_mismatch", "Upload-Offset", True)
    assert conflict["Upload-Offset"] == "100"

    damaged = tus_patch(
        capturer_client,
        url,
        100,
        photo[100:200],
        **{"Upload-Checksum": checksum_header(b"something else")},
    )
    assert fault(damaged) == (460, "checksum_mismatch", "Upload-Checksum", True)
    assert damaged.reason_phrase == "Checksum Mismatch"

    wrong_type = capturer_client.generic(
        "PATCH",
        url,
        photo[100:200],
        content_type="application/octet-stream",
        headers={**TUS, "Upload-Offset": "100"},
    )
    assert fault(wrong_type) == (415, "content_type_unsupported", "Content-Type", False)

    missing = tus_patch(capturer_client, f"{UPLOADS}{'0' * 32}", 0, b"x")
    assert fault(missing) == (404, "upload_not_found", None, False)


def test_a_file_refused_at_its_last_byte_is_enveloped(capturer_client: APIClient) -> None:
    notes = b"just some notes, not a photo\n" * 40
    url = tus_create(capturer_client, len(notes))["Location"]
    response = tus_patch(capturer_client, url, 0, notes)
    assert fault(response) == (415, "file_type_unsupported", "file", False)
    again = tus_patch(capturer_client, url, len(notes), b"")
    assert fault(again) == (410, "upload_refused", "file", False)


def test_an_unforeseen_failure_is_a_retryable_500(capturer_client: APIClient) -> None:
    # The uploads directory is a file: the disk refuses, as a full or broken one would.
    uploads = settings.HUB_DATA_DIR / "uploads"
    uploads.parent.mkdir(parents=True, exist_ok=True)
    uploads.write_text("not a directory")

    response = tus_create(capturer_client, 100)

    assert fault(response) == (500, "server_error", None, True)
    assert "Traceback" not in error_of(response)["message"]


# ---- the one decision --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, "invalid_request", False),
        (401, "not_authenticated", False),
        (403, "permission_denied", False),
        (404, "patient_not_found", False),
        (408, "request_timeout", True),
        (409, "upload_complete", False),
        (409, "upload_offset_mismatch", True),
        (413, "file_too_large", False),
        (415, "file_type_unsupported", False),
        (422, "idempotency_key_reused", False),
        (423, "upload_busy", True),
        (425, "too_early", True),
        (429, "throttled", True),
        (460, "checksum_mismatch", True),
        (500, "server_error", True),
        (501, "emr_not_configured", False),
        (502, "emr_refused", False),
        (503, "emr_unavailable", True),
    ],
)
def test_retryable_is_decided_in_one_place(status: int, code: str, retryable: bool) -> None:
    assert is_retryable(status, code) is retryable


# ---- the schema ----------------------------------------------------------------


TUS_POST_ERRORS = {"400", "401", "409", "411", "412", "413", "415", "423", "460", "507"}


def test_the_schema_documents_the_error_component_on_every_endpoint(
    capturer_client: APIClient,
) -> None:
    schema = capturer_client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()
    components = schema["components"]["schemas"]
    assert components["Error"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorBody"
    body = components["ErrorBody"]
    assert set(body["required"]) == {"code", "message", "field", "retryable"}
    assert body["properties"]["retryable"]["type"] == "boolean"
    assert body["properties"]["field"]["nullable"] is True

    expected = {
        ("/api/v1/auth/token", "post"): {"400", "415", "429"},
        ("/api/v1/auth/tokens", "get"): {"401", "403"},
        ("/api/v1/auth/tokens/{token_key}", "delete"): {"401", "403", "404"},
        ("/api/v1/devices/enroll", "post"): {"400", "415", "429"},
        ("/api/v1/audit", "get"): {"400", "401", "403"},
        ("/api/v1/captures", "get"): {"401", "429"},
        ("/api/v1/captures", "post"): {"400", "401", "403", "413", "415", "422", "429", "507"},
        ("/api/v1/captures/{id}", "get"): {"401", "404"},
        ("/api/v1/patients/wounds", "post"): {"400", "401", "403", "415", "429"},
        ("/api/v1/wounds/{wound_id}/thumbnail", "get"): {"401", "403", "404"},
        ("/api/v1/sessions", "post"): {"400", "401", "415", "429"},
        ("/api/v1/sessions/{id}", "get"): {"401", "404"},
        ("/api/v1/uploads/", "post"): TUS_POST_ERRORS,
        ("/api/v1/uploads/", "options"): set(),
        ("/api/v1/uploads/{upload_id}", "patch"): TUS_POST_ERRORS | {"404", "410"},
        ("/api/v1/uploads/{upload_id}", "delete"): {"401", "404", "409", "412"},
        ("/api/v1/uploads/{upload_id}", "head"): {"401", "404", "410", "412"},
        **{
            (f"/api/v1/patients/{kind}", "post"): LOOK_UP_ERRORS
            for kind in ("search", "orders", "encounters")
        },
    }
    operations = {
        (path, method): operation
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    }
    assert set(operations) == set(expected)
    for key, statuses in expected.items():
        responses = operations[key]["responses"]
        errors = {code for code in responses if int(code) >= 400}
        assert errors == statuses, key
        for code in errors:
            if key[1] == "head":  # a HEAD answer has no body: its status says it all
                assert "content" not in responses[code]
                continue
            content = responses[code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (key, code)
            assert responses[code]["description"]


@pytest.mark.parametrize(
    ("headers", "status", "code", "field", "words"),
    [
        ({"Upload-Metadata": "a YQ==,a YQ=="}, 400, "header_invalid", "Upload-Metadata", "twice"),
        ({"Upload-Metadata": "filename YQ=="}, 400, "context_invalid", "context", "required"),
        ({"Upload-Metadata": "context e25vdA=="}, 400, "context_invalid", "context", "JSON"),
        ({"Upload-Length": "0"}, 400, "file_invalid", "file", "empty"),
        ({"Upload-Length": "ten"}, 400, "header_invalid", "Upload-Length", "integer"),
        (
            {"Upload-Defer-Length": "1"},
            400,
            "defer_length_unsupported",
            "Upload-Defer-Length",
            "not supported",
        ),
    ],
    ids=["duplicate-key", "no-context", "context-not-json", "empty", "bad-length", "defer"],
)
def test_tus_creation_refusals_name_code_and_field(
    capturer_client: APIClient,
    headers: dict[str, str],
    status: int,
    code: str,
    field: str,
    words: str,
) -> None:
    response = tus_create(capturer_client, 1000, **headers)
    assert fault(response) == (status, code, field, False)
    assert words.lower() in error_of(response)["message"].lower()
