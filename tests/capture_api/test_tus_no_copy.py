"""A completed tus upload becomes the original by rename: no second copy, no re-read.

The sha256 grows as the chunks arrive, its state saved beside the partial file
for whichever process takes the next chunk (capture_api/tus/storage.py); when
that state is gone or unusable the committed bytes are read once to catch up,
and the recorded sha256 is still the file's.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tasks import expire_uploads
from capture_api.tus import storage as tus_storage
from capture_api.tus.storage import partial_path, running_path
from hub.captures import storage as hub_storage
from hub.captures.storage import file_sha256
from tests.capture_api.tus_helpers import (
    OCTETS,
    TUS,
    checksum_header,
    make_media,
    metadata_header,
    upload_id_of,
)

UPLOADS = "/api/v1/uploads/"


@pytest.fixture
def media(tmp_path: Path) -> bytes:
    return make_media(tmp_path / "small.jpg", 300_000)[0].read_bytes()


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every byte of a partial file read back (the only re-read), counted per call."""
    counts: list[int] = []
    real = tus_storage.read_range

    def counting(path: Path, start: int, end: int) -> Iterator[bytes]:
        counts.append(0)
        for piece in real(path, start, end):
            counts[-1] += len(piece)
            yield piece

    monkeypatch.setattr(tus_storage, "read_range", counting)
    return counts


def create(client: APIClient, length: int):
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata_header()}
    return client.post(UPLOADS, headers=headers)


def patch(client: APIClient, url: str, offset: int, chunk: bytes, **headers: str):
    headers = {**TUS, "Upload-Offset": str(offset), **headers}
    return client.generic("PATCH", url, chunk, content_type=OCTETS, headers=headers)


def original_of(url: str) -> tuple[Path, str]:
    capture = ResumableUpload.objects.get(pk=upload_id_of(url)).capture
    assert capture is not None, "the upload made no capture"
    return settings.HUB_DATA_DIR / capture.original_path, capture.original_sha256


def upload_in_thirds(
    client: APIClient, media: bytes, *, saved_state: Callable[[Path], None] | None = None
) -> str:
    """Three PATCHes; `saved_state` does what it likes to the saved digest before each."""
    url = create(client, len(media))["Location"]
    cuts = (0, 100_000, 200_000, len(media))
    for start, end in itertools.pairwise(cuts):
        if saved_state is not None:
            saved_state(running_path(upload_id_of(url)))
        chunk = media[start:end]
        answered = patch(client, url, start, chunk, **{"Upload-Checksum": checksum_header(chunk)})
        assert answered.status_code == 204, answered.content
    return url


@pytest.mark.django_db
def test_the_partial_file_becomes_the_original_by_rename(
    capturer_client: APIClient, media: bytes, bytes_read: list[int], monkeypatch
) -> None:
    def no_copy(*_: object, **__: object) -> None:
        raise AssertionError("the upload was copied")

    monkeypatch.setattr(hub_storage, "store_original", no_copy)
    url = create(capturer_client, len(media))["Location"]
    inode = None
    cuts = (0, 100_000, 200_000, len(media))
    for start, end in itertools.pairwise(cuts):
        assert patch(capturer_client, url, start, media[start:end]).status_code == 204
        if inode is None:
            inode = partial_path(upload_id_of(url)).stat().st_ino

    original, sha256 = original_of(url)
    assert original.read_bytes() == media
    assert sha256 == file_sha256(original) == hashlib.sha256(media).hexdigest()
    assert original.stat().st_ino == inode  # the same file, renamed
    assert not partial_path(upload_id_of(url)).exists()
    assert sum(bytes_read) == 0  # every chunk hashed as it came in: nothing read again
    assert not running_path(upload_id_of(url)).exists()


@pytest.mark.django_db
def test_without_its_saved_digest_an_upload_still_gets_the_right_sha256(
    capturer_client: APIClient, media: bytes, bytes_read: list[int]
) -> None:
    # As when each request died between committing its chunk and saving the digest.
    url = upload_in_thirds(
        capturer_client, media, saved_state=lambda path: path.unlink(missing_ok=True)
    )
    original, sha256 = original_of(url)
    assert original.read_bytes() == media
    assert sha256 == hashlib.sha256(media).hexdigest()
    assert not partial_path(upload_id_of(url)).exists()
    # Each PATCH reads back only the committed bytes, once.
    assert [count for count in bytes_read if count] == [100_000, 200_000]


def _torn(path: Path) -> None:
    if path.exists():
        path.write_bytes(path.read_bytes()[:-1] + b"?")


def _ahead(path: Path) -> None:
    if path.exists():
        saved = bytearray(path.read_bytes())
        saved[:8] = (10**9).to_bytes(8, "big")  # covers more than was ever committed
        # (its own check recomputed, so only the offset gives it away)
        head = bytes(saved[:-32])
        path.write_bytes(head + hashlib.sha256(head).digest())


@pytest.mark.parametrize("spoil", [_torn, _ahead], ids=["torn", "ahead-of-the-offset"])
@pytest.mark.django_db
def test_a_spoilt_saved_digest_is_not_trusted(
    capturer_client: APIClient, media: bytes, bytes_read: list[int], spoil
) -> None:
    url = upload_in_thirds(capturer_client, media, saved_state=spoil)
    _, sha256 = original_of(url)
    assert sha256 == hashlib.sha256(media).hexdigest()
    assert [count for count in bytes_read if count] == [100_000, 200_000]


@pytest.mark.django_db
def test_a_discarded_chunk_does_not_enter_the_digest(
    capturer_client: APIClient, media: bytes
) -> None:
    url = create(capturer_client, len(media))["Location"]
    assert patch(capturer_client, url, 0, media[:100_000]).status_code == 204
    wrong = patch(
        capturer_client,
        url,
        100_000,
        media[100_000:],
        **{"Upload-Checksum": checksum_header(b"something else")},
    )
    assert wrong.status_code == 460
    assert patch(capturer_client, url, 100_000, media[100_000:]).status_code == 204
    _, sha256 = original_of(url)
    assert sha256 == hashlib.sha256(media).hexdigest()


@pytest.mark.django_db
def test_the_last_chunk_again_after_a_crash_completes_with_its_capture(
    capturer_client: APIClient, media: bytes
) -> None:
    from hub.captures.models import Capture

    url = upload_in_thirds(capturer_client, media)
    capture = ResumableUpload.objects.get(pk=upload_id_of(url)).capture
    # The last chunk again after a crash that recorded the capture but not the upload.
    ResumableUpload.objects.filter(pk=upload_id_of(url)).update(
        status=UploadStatus.RECEIVING, offset=200_000, capture=None
    )
    again = patch(capturer_client, url, 200_000, media[200_000:])
    assert again.status_code == 204, again.content
    upload = ResumableUpload.objects.get(pk=upload_id_of(url))
    assert (upload.status, upload.capture_id) == (UploadStatus.COMPLETE, capture.id)
    assert Capture.objects.count() == 1


@pytest.mark.django_db
def test_saved_states_without_their_partial_file_are_swept(
    capturer_client: APIClient, media: bytes
) -> None:
    live = create(capturer_client, len(media))["Location"]
    assert patch(capturer_client, live, 0, media[:100_000]).status_code == 204
    kept = running_path(upload_id_of(live))
    stray = running_path("0" * 32)  # its upload completed, then a crash before the removal
    half_written = stray.with_suffix(".feed.tmp")
    recent_stray = running_path("1" * 32)
    long_ago = time.time() - 2 * 24 * 3600
    for path in (stray, half_written, recent_stray):
        path.write_bytes(b"left by a crash")
    for path in (kept, stray, half_written):
        os.utime(path, (long_ago, long_ago))

    expire_uploads()

    assert kept.exists() and recent_stray.exists()
    assert not stray.exists() and not half_written.exists()
