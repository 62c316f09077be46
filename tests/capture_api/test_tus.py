"""tus 1.0.0 uploads: protocol conformance, the real tuspy client, expiry."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tasks import expire_uploads
from capture_api.tus.storage import partial_path
from hub.accounts.models import HubToken
from hub.accounts.roles import Role
from hub.captures.models import Capture
from hub.captures.storage import file_sha256
from tests.capture_api.tus_helpers import (
    CONTEXT_JSON,
    OCTETS,
    TUS,
    HalfSentPatch,
    capture_of,
    checksum_header,
    make_media,
    metadata_header,
    raw_offset,
    raw_patch,
    read_range,
    tus_client,
    upload_id_of,
    wait_for_lease,
)
from tests.conftest import api_client_for

UPLOADS = "/api/v1/uploads/"


@pytest.fixture
def media(tmp_path: Path) -> bytes:
    return make_media(tmp_path / "small.jpg", 300_000)[0].read_bytes()


def create(client: APIClient, length: int, **headers: str):
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata_header(), **headers}
    return client.post(UPLOADS, headers=headers)


def patch(client: APIClient, url: str, offset: int, chunk: bytes, **headers: str):
    headers = {**TUS, "Upload-Offset": str(offset), **headers}
    return client.generic("PATCH", url, chunk, content_type=OCTETS, headers=headers)


def head(client: APIClient, url: str):
    return client.head(url, headers=TUS)


def partial_files() -> list[Path]:
    directory = settings.HUB_DATA_DIR / "uploads"
    return sorted(directory.iterdir()) if directory.exists() else []


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_stored(url: str, sent: bytes) -> None:
    """The upload's partial file on disk holds exactly `sent`: its size, then its sha256."""
    stored = partial_path(upload_id_of(url))
    assert stored.stat().st_size == len(sent)
    assert file_sha256(stored) == sha256_of(sent)


def assert_resumes_at(client: APIClient, url: str, sent: bytes) -> None:
    """HEAD reports the offset of the bytes sent, and those bytes are the ones on disk."""
    probe = head(client, url)
    assert probe.status_code == 200
    assert probe["Upload-Offset"] == str(len(sent))
    assert_stored(url, sent)


def stored_original(upload_url: str) -> Path:
    capture = ResumableUpload.objects.get(pk=upload_id_of(upload_url)).capture
    assert capture is not None, "the upload made no capture"
    return settings.HUB_DATA_DIR / capture.original_path


@pytest.mark.django_db
def test_options_announces_version_extensions_and_limits() -> None:
    response = APIClient().options(UPLOADS)

    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    extensions = set(response["Tus-Extension"].split(","))
    assert {"creation", "creation-with-upload", "termination", "checksum", "expiration"} <= (
        extensions
    )
    assert response["Tus-Max-Size"] == str(settings.HUB_MAX_UPLOAD_BYTES)
    assert {"sha1", "md5", "sha256"} <= set(response["Tus-Checksum-Algorithm"].split(","))


@pytest.mark.django_db
def test_create_resume_and_complete_make_one_capture(
    capturer_client: APIClient, media: bytes, django_capture_on_commit_callbacks
) -> None:
    created = create(capturer_client, len(media))
    assert created.status_code == 201, created.content
    url = created["Location"]
    assert url.startswith("http://testserver/api/v1/uploads/")
    assert created["Tus-Resumable"] == "1.0.0"
    assert created["Upload-Expires"].endswith("GMT")

    first = patch(capturer_client, url, 0, media[:100_000])
    assert first.status_code == 204
    assert first["Upload-Offset"] == "100000"
    probe = head(capturer_client, url)
    assert probe.status_code == 200
    assert (probe["Upload-Offset"], probe["Upload-Length"]) == ("100000", str(len(media)))
    assert probe["Upload-Metadata"] == metadata_header()
    assert probe["Cache-Control"] == "no-store"
    assert_stored(url, media[:100_000])

    rest = media[100_000:]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        last = patch(
            capturer_client, url, 100_000, rest, **{"Upload-Checksum": checksum_header(rest)}
        )
    assert last.status_code == 204, last.content
    assert last["Upload-Offset"] == str(len(media))
    assert len(callbacks) == 1  # the pipeline starts once

    upload_id = upload_id_of(url)
    found = capturer_client.get("/api/v1/captures", {"upload": upload_id}).json()["results"]
    assert len(found) == 1
    assert found[0]["original"]["sha256"] == sha256_of(media)
    assert file_sha256(stored_original(url)) == sha256_of(media)
    assert found[0]["original"]["name"] == "wound.jpg"
    assert found[0]["context"]["patient"]["id"] == "MRN-0042"
    assert partial_files() == []
    assert head(capturer_client, url)["Upload-Offset"] == str(len(media))
    assert patch(capturer_client, url, 100_000, rest).status_code == 409


@pytest.mark.django_db
def test_creation_with_upload_takes_the_whole_file_in_one_request(
    capturer_client: APIClient, media: bytes
) -> None:
    response = capturer_client.generic(
        "POST",
        UPLOADS,
        media,
        content_type=OCTETS,
        headers={**TUS, "Upload-Length": str(len(media)), "Upload-Metadata": metadata_header()},
    )

    assert response.status_code == 201, response.content
    assert response["Upload-Offset"] == str(len(media))
    assert ResumableUpload.objects.get().capture.original_size == len(media)


@pytest.mark.django_db
def test_creation_with_a_body_of_the_wrong_type_creates_nothing(
    capturer_client: APIClient, media: bytes
) -> None:
    response = capturer_client.generic(
        "POST",
        UPLOADS,
        media,
        content_type="image/jpeg",
        headers={**TUS, "Upload-Length": str(len(media)), "Upload-Metadata": metadata_header()},
    )

    assert response.status_code == 415
    assert ResumableUpload.objects.count() == 0


@pytest.mark.django_db
def test_offset_mismatch_is_409_and_nothing_is_written(
    capturer_client: APIClient, media: bytes
) -> None:
    url = create(capturer_client, len(media))["Location"]
    patch(capturer_client, url, 0, media[:1000])

    for offset in (0, 999, 1001):
        response = patch(capturer_client, url, offset, media[offset : offset + 10])
        assert response.status_code == 409
        assert response["Upload-Offset"] == "1000"
    assert_resumes_at(capturer_client, url, media[:1000])


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "sha256"])
@pytest.mark.django_db
def test_checksum_mismatch_is_460_and_the_chunk_is_discarded(
    capturer_client: APIClient, media: bytes, algorithm: str
) -> None:
    url = create(capturer_client, len(media))["Location"]
    patch(capturer_client, url, 0, media[:1000])
    chunk = media[1000:5000]
    corrupted = chunk[:-1] + bytes([chunk[-1] ^ 0xFF])

    wrong = patch(
        capturer_client,
        url,
        1000,
        corrupted,
        **{"Upload-Checksum": checksum_header(chunk, algorithm)},
    )
    assert (wrong.status_code, wrong.reason_phrase) == (460, "Checksum Mismatch")
    assert_resumes_at(capturer_client, url, media[:1000])

    right = patch(
        capturer_client, url, 1000, chunk, **{"Upload-Checksum": checksum_header(chunk, algorithm)}
    )
    assert right.status_code == 204
    assert right["Upload-Offset"] == "5000"
    assert_resumes_at(capturer_client, url, media[:5000])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Upload-Checksum": "crc32 AAAAAA=="}, 400),
        ({"Upload-Checksum": "sha1 not-base64!"}, 400),
        ({"Content-Type": "application/octet-stream"}, 415),
        ({"Tus-Resumable": "0.2.2"}, 412),
        ({"Upload-Offset": "-1"}, 400),
    ],
    ids=["unknown-algorithm", "bad-digest", "content-type", "version", "negative-offset"],
)
@pytest.mark.django_db
def test_malformed_patches_are_refused(
    capturer_client: APIClient, media: bytes, headers: dict[str, str], status: int
) -> None:
    url = create(capturer_client, len(media))["Location"]
    content_type = headers.pop("Content-Type", OCTETS)
    all_headers = {**TUS, "Upload-Offset": "0", **headers}
    response = capturer_client.generic(
        "PATCH", url, media[:100], content_type=content_type, headers=all_headers
    )

    assert response.status_code == status, response.content
    assert head(capturer_client, url)["Upload-Offset"] == "0"


@pytest.mark.django_db
def test_a_chunk_past_upload_length_is_refused(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, 100)["Location"]
    assert patch(capturer_client, url, 0, media[:101]).status_code == 413


@pytest.mark.parametrize(
    ("headers", "status", "field", "words"),
    [
        ({"Upload-Metadata": "filename !!!"}, 400, "Upload-Metadata", "base64"),
        ({"Upload-Metadata": "a YQ==,a YQ=="}, 400, "Upload-Metadata", "twice"),
        ({"Upload-Metadata": "filename YQ=="}, 400, "context", "required"),
        ({"Upload-Metadata": "context e25vdA=="}, 400, "context", "not valid JSON"),
        (
            {"Upload-Metadata": metadata_header(context={"specialty": "wound"})},
            400,
            "context",
            "patient",
        ),
        ({"Upload-Length": "0"}, 400, "file", "empty"),
        ({"Upload-Length": "ten"}, 400, "Upload-Length", "integer"),
        ({"Upload-Length": str(10**15)}, 413, "Upload-Length", "at most"),
        ({"Upload-Defer-Length": "1"}, 400, "Upload-Defer-Length", "not supported"),
        ({"Tus-Resumable": "0.2.2"}, 412, "Tus-Resumable", "1.0.0"),
    ],
    ids=[
        "bad-base64",
        "duplicate-key",
        "no-context",
        "context-not-json",
        "bad-context",
        "empty",
        "bad-length",
        "too-large",
        "defer",
        "version",
    ],
)
@pytest.mark.django_db
def test_bad_creation_is_refused_and_nothing_is_created(
    capturer_client: APIClient, headers: dict[str, str], status: int, field: str, words: str
) -> None:
    response = create(capturer_client, 1000, **headers)

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["field"] == field
    assert words.lower() in error["message"].lower()
    assert response["Tus-Resumable"] == "1.0.0"
    assert ResumableUpload.objects.count() == 0
    assert partial_files() == []


@pytest.mark.django_db
def test_uploads_belong_to_their_creator(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, len(media))["Location"]
    other = api_client_for("other-nurse", Role.CAPTURER)
    stranger = APIClient()

    assert head(other, url).status_code == 404
    assert patch(other, url, 0, media[:10]).status_code == 404
    assert other.delete(url, headers=TUS).status_code == 404
    assert create(stranger, len(media)).status_code == 401
    assert head(stranger, url).status_code == 401
    assert patch(stranger, url, 0, media[:10]).status_code == 401
    assert head(capturer_client, url)["Upload-Offset"] == "0"


@pytest.mark.django_db
def test_termination_removes_the_upload_and_its_bytes(
    capturer_client: APIClient, media: bytes
) -> None:
    url = create(capturer_client, len(media))["Location"]
    patch(capturer_client, url, 0, media[:1000])

    assert capturer_client.delete(url, headers=TUS).status_code == 204
    assert head(capturer_client, url).status_code == 404
    assert patch(capturer_client, url, 1000, media[1000:2000]).status_code == 404
    assert partial_files() == []


@pytest.mark.django_db
def test_method_override_is_honoured(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, len(media))["Location"]
    appended = capturer_client.generic(
        "POST",
        url,
        media[:500],
        content_type=OCTETS,
        headers={**TUS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
    )
    assert appended.status_code == 204
    assert appended["Upload-Offset"] == "500"

    gone = capturer_client.post(url, headers={**TUS, "X-HTTP-Method-Override": "DELETE"})
    assert gone.status_code == 204
    assert ResumableUpload.objects.count() == 0


@pytest.mark.django_db
def test_a_refused_file_answers_the_last_patch_and_is_not_kept(
    capturer_client: APIClient,
) -> None:
    notes = b"just some notes, not a photo\n" * 200
    url = create(capturer_client, len(notes))["Location"]

    response = patch(capturer_client, url, 0, notes)

    assert response.status_code == 415
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("file_type_unsupported", "file")
    assert "text" in error["message"]
    upload = ResumableUpload.objects.get()
    assert (upload.status, upload.capture) == (UploadStatus.REFUSED, None)
    assert head(capturer_client, url).status_code == 410
    assert Capture.objects.count() == 0
    assert partial_files() == []


@pytest.mark.django_db
def test_a_patch_in_progress_holds_the_upload(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, len(media))["Location"]
    upload = ResumableUpload.objects.get()
    # What a request that is still streaming its body leaves in the row.
    upload.lease_token, upload.lease_until = "other", timezone.now() + timedelta(seconds=60)
    upload.save()

    assert patch(capturer_client, url, 0, media[:10]).status_code == 423
    assert capturer_client.delete(url, headers=TUS).status_code == 423

    # A request that died lets go when its lease runs out.
    upload.lease_until = timezone.now() - timedelta(seconds=1)
    upload.save()
    assert patch(capturer_client, url, 0, media[:10])["Upload-Offset"] == "10"
    assert_resumes_at(capturer_client, url, media[:10])


@pytest.mark.django_db
def test_capture_filter_by_upload_shows_only_ones_own(
    capturer_client: APIClient, media: bytes
) -> None:
    url = create(capturer_client, len(media))["Location"]
    patch(capturer_client, url, 0, media)
    other = api_client_for("other-nurse", Role.CAPTURER)
    captures = "/api/v1/captures"

    assert len(capturer_client.get(captures, {"upload": upload_id_of(url)}).json()["results"]) == 1
    assert other.get(captures, {"upload": upload_id_of(url)}).json()["results"] == []
    assert capturer_client.get(captures, {"upload": "no-such"}).json()["results"] == []


@pytest.mark.django_db
def test_chunked_bodies_are_refused_not_lost(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, len(media))["Location"]
    assert patch(capturer_client, url, 0, media[:1000])["Upload-Offset"] == "1000"

    refused = capturer_client.generic(
        "PATCH",
        url,
        media[1000:2000],
        content_type=OCTETS,
        headers={**TUS, "Upload-Offset": "1000", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
    )

    assert refused.status_code == 411
    # Django would read a chunked body as empty: nothing of it is taken, nothing is lost.
    assert_resumes_at(capturer_client, url, media[:1000])
    resumed = patch(capturer_client, url, 1000, media[1000:])
    assert resumed.status_code == 204, resumed.content
    assert resumed["Upload-Offset"] == str(len(media))
    assert file_sha256(stored_original(url)) == sha256_of(media)


@pytest.mark.django_db
def test_schema_is_still_served(capturer_client: APIClient) -> None:
    schema = capturer_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200


@pytest.mark.django_db
def test_expired_uploads_are_removed_recent_ones_kept(
    capturer_client: APIClient, media: bytes
) -> None:
    old_url = create(capturer_client, len(media))["Location"]
    recent_url = create(capturer_client, len(media))["Location"]
    old_id, recent_id = upload_id_of(old_url), upload_id_of(recent_url)
    ResumableUpload.objects.filter(pk=old_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    orphan = partial_path("0" * 32)
    orphan.write_bytes(b"left by a crash")
    long_ago = time.time() - 2 * 24 * 3600
    os.utime(orphan, (long_ago, long_ago))

    assert expire_uploads() == 1

    assert list(ResumableUpload.objects.values_list("pk", flat=True)) == [recent_id]
    assert partial_files() == [partial_path(recent_id)]
    assert head(capturer_client, old_url).status_code == 404


# --- the real tuspy client against a live server ----------------------------------------

MB = 1024 * 1024


@pytest.fixture
def live_token(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """A capturer's token; the pipeline's Celery task is not published to the broker."""
    from hub.pipeline.tasks import inspect_capture

    monkeypatch.setattr(inspect_capture, "delay", lambda capture_id: None)
    return api_client_for("nurse", Role.CAPTURER).token  # type: ignore[attr-defined]


def test_tuspy_uploads_a_small_file(live_server, live_token: str, tmp_path: Path) -> None:
    path, sha256 = make_media(tmp_path / "small.jpg", 700_000)
    uploader = tus_client(live_server.url, live_token).uploader(
        str(path),
        chunk_size=256 * 1024,
        metadata={"filename": "small.jpg", "context": CONTEXT_JSON},
        upload_checksum=True,
    )
    uploader.upload()

    capture = capture_of(live_server.url, live_token, uploader.url)
    assert capture["original"]["sha256"] == sha256
    original = settings.HUB_DATA_DIR / Capture.objects.get(id=capture["id"]).original_path
    assert file_sha256(original) == sha256


def test_tuspy_resumes_after_interruptions_resending_little(
    live_server, live_token: str, tmp_path: Path
) -> None:
    """An abandoned client, a dropped and a reset connection, a corrupted chunk; then a
    fresh client finishes from the URL alone. Under 5% of the bytes travel twice.

    The issue's size, 300 MB, by default; HUB_TUS_TEST_MB=24 runs a quick version.
    """
    size = int(os.environ.get("HUB_TUS_TEST_MB", "300")) * MB
    chunk = 8 * MB if size > 100 * MB else 4 * MB
    path, sha256 = make_media(tmp_path / "clip.jpg", size)
    client = tus_client(live_server.url, live_token)
    metadata = {"filename": "clip.jpg", "context": CONTEXT_JSON}

    # 1. The app is killed after two chunks.
    first = client.uploader(str(path), chunk_size=chunk, metadata=metadata)
    first.upload_chunk()
    first.upload_chunk()
    url, offset, sent = first.url, first.offset, first.offset
    upload = ResumableUpload.objects.get(pk=upload_id_of(url))
    assert (raw_offset(url, live_token), offset) == (2 * chunk, 2 * chunk)
    assert_stored(url, read_range(path, 0, offset))

    # 2. The connection drops 60% into a chunk: what arrived is kept (tus core PATCH).
    dropped = HalfSentPatch(url, token=live_token, offset=offset, announced=chunk)
    part = int(chunk * 0.6)
    dropped.send(read_range(path, offset, part))
    assert f"Upload-Offset: {offset + part}" in dropped.hang_up()
    offset, sent = offset + part, sent + part
    assert raw_offset(url, live_token) == offset
    assert_stored(url, read_range(path, 0, offset))

    # 3. A TCP reset 10% into a chunk; what was still in flight is lost and re-sent.
    reset = HalfSentPatch(url, token=live_token, offset=offset, announced=chunk)
    part = int(chunk * 0.1)
    reset.send(read_range(path, offset, part))
    wait_for_lease(upload, held=True)
    reset.reset()
    wait_for_lease(upload, held=False)
    before, offset, sent = offset, raw_offset(url, live_token), sent + part
    assert before <= offset <= before + part
    assert_stored(url, read_range(path, 0, offset))

    # 4. A chunk corrupted on the way: 460, and the offset stays.
    good = read_range(path, offset, 256 * 1024)
    bad = raw_patch(
        url,
        live_token,
        offset,
        bytes(b ^ 1 for b in good),
        **{"Upload-Checksum": checksum_header(good)},
    )
    assert bad.status_code == 460
    assert raw_offset(url, live_token) == offset
    assert_stored(url, read_range(path, 0, offset))
    sent += len(good)

    resumed = client.uploader(str(path), url=url, chunk_size=chunk, upload_checksum=True)
    assert resumed.offset == offset
    resumed.upload()
    sent += size - offset

    assert capture_of(live_server.url, live_token, url)["original"]["sha256"] == sha256
    assert file_sha256(stored_original(url)) == sha256
    upload.refresh_from_db()
    resent_server, resent_clients = upload.received_bytes - size, sent - size
    print(f"\n{size} bytes; re-sent: {resent_server} (server), {resent_clients} (clients)")
    assert upload.status == UploadStatus.COMPLETE
    assert resent_server < 0.05 * size
    assert resent_clients < 0.05 * size


def test_two_patches_at_once_do_not_interleave(
    live_server, live_token: str, tmp_path: Path
) -> None:
    path, _ = make_media(tmp_path / "photo.jpg", 2 * MB)
    uploader = tus_client(live_server.url, live_token).uploader(
        str(path), chunk_size=MB, metadata={"filename": "photo.jpg", "context": CONTEXT_JSON}
    )
    url = uploader.create_url()
    upload = ResumableUpload.objects.get(pk=upload_id_of(url))
    slow = HalfSentPatch(url, token=live_token, offset=0, announced=MB)
    slow.send(read_range(path, 0, 1000))
    wait_for_lease(upload, held=True)

    assert raw_patch(url, live_token, 0, read_range(path, 0, MB)).status_code == 423

    slow.send(read_range(path, 1000, MB - 1000))
    assert f"Upload-Offset: {MB}" in slow.hang_up()
    assert partial_path(upload.pk).read_bytes() == read_range(path, 0, MB)


@pytest.mark.django_db
def test_an_expired_token_is_refused_and_deleted(capturer_client: APIClient, media: bytes) -> None:
    url = create(capturer_client, len(media))["Location"]
    tokens = HubToken.objects.filter(user=capturer_client.user)
    tokens.update(expiry=timezone.now() - timedelta(seconds=1))

    answered = patch(capturer_client, url, 0, media)

    assert answered.status_code == 401
    assert answered.json()["error"]["code"] == "authentication_failed"
    assert not tokens.exists()
    assert ResumableUpload.objects.get(pk=upload_id_of(url)).offset == 0
