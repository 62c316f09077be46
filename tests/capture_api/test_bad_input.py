"""Bad input is harmless: refused with a 4xx in the error envelope, never a 5xx, nothing kept."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from capture_api.models import ResumableUpload
from hub.captures.models import Capture
from tests.capture_api.tus_helpers import CONTEXT, TUS, metadata_header
from tests.media import make_jpeg

CAPTURES = "/api/v1/captures"
UPLOADS = "/api/v1/uploads/"
DEEP = "[" * 10_000 + "]" * 10_000

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(tmp_path: Path) -> bytes:
    return make_jpeg(tmp_path / "photo.jpg", width=64, height=48).read_bytes()


def fault(response) -> tuple[int, str, str | None]:
    body = response.json()
    assert set(body) == {"error"}, body
    return response.status_code, body["error"]["code"], body["error"]["field"]


def post_raw_context(client: APIClient, photo: bytes, context: bytes, **headers: str):
    """A multipart upload whose context part carries exactly these bytes."""
    boundary = "hub-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="context"\r\n\r\n'.encode()
        + context
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.generic(
        "POST",
        CAPTURES,
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def tus_create_raw(client: APIClient, *, filename: bytes, context: bytes):
    metadata = ",".join(
        f"{key} {base64.b64encode(value).decode()}"
        for key, value in (("filename", filename), ("context", context))
    )
    return client.post(
        UPLOADS, headers={**TUS, "Upload-Length": "100", "Upload-Metadata": metadata}
    )


def nothing_kept() -> bool:
    return not Capture.objects.exists() and not ResumableUpload.objects.exists()


BAD_CONTEXTS = {
    "10,000-deep JSON": DEEP.encode(),
    "invalid UTF-8": json.dumps(CONTEXT)
    .replace("DOE^JANE", "DOE^J\udcffANE")
    .encode("utf-8", errors="surrogateescape"),
    "a NUL": json.dumps(CONTEXT).replace("DOE^JANE", "DOE^JA\\u0000NE").encode(),
    "a control character": json.dumps(CONTEXT).replace("DOE^JANE", "DOE^JA\\u001bNE").encode(),
    "a bidi override": json.dumps(CONTEXT).replace("DOE^JANE", "DOE^\u202eENAJ").encode(),
    "a bidi isolate in a key": json.dumps(CONTEXT).replace('"sex"', '"s\u2066ex"').encode(),
}


@pytest.mark.parametrize("kind", BAD_CONTEXTS)
def test_a_multipart_context_with_bad_text_is_refused_with_400_and_nothing_kept(
    capturer_client: APIClient, photo: bytes, kind: str
) -> None:
    response = post_raw_context(capturer_client, photo, BAD_CONTEXTS[kind])
    assert fault(response) == (400, "context_invalid", "context")
    assert nothing_kept()


@pytest.mark.parametrize("kind", BAD_CONTEXTS)
def test_a_tus_context_with_bad_text_is_refused_with_400_and_nothing_kept(
    capturer_client: APIClient, kind: str
) -> None:
    response = tus_create_raw(capturer_client, filename=b"wound.jpg", context=BAD_CONTEXTS[kind])
    assert fault(response) == (400, "context_invalid", "context")
    assert nothing_kept()


def test_a_multipart_context_the_hub_would_store_as_replacement_characters_is_refused(
    capturer_client: APIClient, photo: bytes
) -> None:
    # A form field's undecodable bytes reach the view as U+FFFD: never archived as such.
    context = json.dumps(CONTEXT).replace("DOE^JANE", "DOE^J\ufffdANE")
    response = capturer_client.post(
        CAPTURES, {"file": _named(photo), "context": context}, format="multipart"
    )
    assert fault(response) == (400, "context_invalid", "context")


@pytest.mark.parametrize("name", [b"wound\x00.jpg", b"wound\x1b.jpg", b"\xe2\x80\xaegpj.exe"])
def test_a_tus_file_name_with_a_control_or_bidi_character_is_refused_before_any_byte(
    capturer_client: APIClient, name: bytes
) -> None:
    response = tus_create_raw(capturer_client, filename=name, context=json.dumps(CONTEXT).encode())
    assert fault(response) == (400, "header_invalid", "filename")
    assert nothing_kept()


def test_a_multipart_file_name_is_stored_without_its_nul_and_bidi_characters(
    capturer_client: APIClient, photo: bytes
) -> None:
    response = capturer_client.post(
        CAPTURES,
        {"file": _named(photo, "wou\u202end\x00.jpg"), "context": json.dumps(CONTEXT)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Capture.objects.get().original_name == "wound.jpg"


@pytest.mark.parametrize("query", ["limit=9223372036854775808", "limit=99999999999999999999999"])
def test_a_limit_beyond_any_integer_is_capped_not_a_server_error(
    capturer_client: APIClient, query: str
) -> None:
    response = capturer_client.get(f"{CAPTURES}?{query}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("offset", ["9223372036854775808", "1" + "0" * 30])
def test_an_offset_beyond_any_integer_is_refused_with_400(
    capturer_client: APIClient, offset: str
) -> None:
    response = capturer_client.get(f"{CAPTURES}?offset={offset}")
    assert fault(response) == (400, "invalid_request", "offset")


def test_an_idempotency_key_longer_than_255_characters_is_refused_with_400(
    capturer_client: APIClient, photo: bytes
) -> None:
    response = capturer_client.post(
        CAPTURES,
        {"file": _named(photo), "context": json.dumps(CONTEXT)},
        format="multipart",
        headers={"Idempotency-Key": "k" * 256},
    )
    assert fault(response) == (400, "invalid_request", "Idempotency-Key")
    assert nothing_kept()


def test_an_idempotency_key_of_255_characters_is_taken(
    capturer_client: APIClient, photo: bytes
) -> None:
    response = capturer_client.post(
        CAPTURES,
        {"file": _named(photo), "context": json.dumps(CONTEXT)},
        format="multipart",
        headers={"Idempotency-Key": "k" * 255},
    )
    assert response.status_code == 201, response.content


def test_an_over_limit_multipart_is_refused_from_its_content_length_before_the_body_is_read(
    live_server, capturer_client: APIClient, settings
) -> None:
    settings.HUB_MAX_UPLOAD_BYTES = 1_000_000
    token = capturer_client._credentials["HTTP_AUTHORIZATION"]
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    # Announces 5 GB, sends none of it: an answer proves the hub did not wait to read it.
    connection.putrequest("POST", CAPTURES)
    connection.putheader("Authorization", token)
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(5 * 1024**3))
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 413
    assert body["error"]["code"] == "file_too_large"
    assert body["error"]["field"] == "Content-Length"
    assert nothing_kept()


def _named(content: bytes, name: str = "photo.jpg") -> BytesIO:
    file = BytesIO(content)
    file.name = name
    return file


def test_tus_refusals_leave_no_part_file(capturer_client: APIClient) -> None:
    tus_create_raw(capturer_client, filename=b"wound.jpg", context=DEEP.encode())
    parts = settings.HUB_DATA_DIR / "uploads"
    assert not parts.exists() or not any(parts.rglob("*"))
    assert metadata_header()  # the well-formed header still builds


@pytest.mark.parametrize("channel", ["multipart", "tus"])
def test_uploads_are_refused_with_507_before_the_disk_fills(
    capturer_client: APIClient, photo: bytes, settings, channel: str
) -> None:
    settings.HUB_MIN_FREE_BYTES = shutil.disk_usage(settings.HUB_DATA_DIR).free
    if channel == "multipart":
        response = capturer_client.post(
            CAPTURES, {"file": _named(photo), "context": json.dumps(CONTEXT)}, format="multipart"
        )
    else:
        response = tus_create_raw(
            capturer_client, filename=b"wound.jpg", context=json.dumps(CONTEXT).encode()
        )
    assert fault(response) == (507, "insufficient_storage", None)
    assert response.json()["error"]["retryable"] is True
    assert int(response["Retry-After"]) > 0
    assert nothing_kept()
