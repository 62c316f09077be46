"""The offset a tus upload reports is never ahead of its bytes on disk.

A PATCH whose web process is killed mid-body: the web process is a real
gunicorn (one worker) on the test database, killed with SIGKILL while it
writes a chunk; HEAD and the rest of the upload go through another process
(this one), which resumes the sha256 the dead one saved for the committed
chunk and must not take in the bytes written past it. A process kill keeps
the page cache, so that the offset moves only after the fsync (what a power
cut needs) is checked on its own.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tus.storage import BODY_PIECE_BYTES, partial_path
from hub.accounts.roles import Role
from tests.capture_api.tus_helpers import (
    OCTETS,
    TUS,
    HalfSentPatch,
    checksum_header,
    make_media,
    metadata_header,
    upload_id_of,
)
from tests.conftest import api_client_for
from tests.integration import worker as integration_worker
from tests.peers.ports import free_port
from tests.peers.process import wait_until_answers

UPLOADS = "/api/v1/uploads/"
COMMITTED = 300_000


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": integration_worker.test_database_url(),
        "HUB_DATA_DIR": str(settings.HUB_DATA_DIR),
        "HUB_HOST": "127.0.0.1",
        "HUB_PORT": str(port),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "hub.wsgi", "--workers", "1"),
                *("--bind", f"127.0.0.1:{port}", "--no-control-socket"),
            ],
            cwd=integration_worker.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: SIGKILL reaches master and worker
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(
            process,
            f"{url}/healthz",
            session=requests.Session(),
            timeout=60,
            name="gunicorn",
            log_tail=lambda: log.read_text(errors="replace")[-3000:],
            error=RuntimeError,
        )
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_a_patch_killed_mid_body_leaves_head_at_bytes_on_disk_and_the_sha256_right(
    gunicorn: tuple[str, subprocess.Popen], tmp_path: Path
) -> None:
    url, process = gunicorn
    client = api_client_for("nurse", Role.CAPTURER)
    media = make_media(tmp_path / "wound.jpg", 3 * 1024 * 1024)[0].read_bytes()
    auth = {"Authorization": f"Token {client.token}", **TUS}
    created = requests.post(
        url + UPLOADS,
        headers={**auth, "Upload-Length": str(len(media)), "Upload-Metadata": metadata_header()},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    upload_url = created.headers["Location"]
    first = media[:COMMITTED]
    committed = requests.patch(
        upload_url,
        data=first,
        headers={
            **auth,
            "Content-Type": OCTETS,
            "Upload-Offset": "0",
            "Upload-Checksum": checksum_header(first),
        },
        timeout=30,
    )
    assert committed.status_code == 204, committed.text

    # The next chunk, half sent: the server writes its first pieces, then dies.
    patch = HalfSentPatch(
        upload_url, token=client.token, offset=COMMITTED, announced=len(media) - COMMITTED
    )
    patch.send(media[COMMITTED : COMMITTED + 4 * BODY_PIECE_BYTES])
    partial = partial_path(upload_id_of(upload_url))
    deadline = time.monotonic() + 30
    while partial.stat().st_size < COMMITTED + BODY_PIECE_BYTES:
        assert time.monotonic() < deadline, "the server wrote nothing of the second chunk"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    patch.reset()
    assert partial.stat().st_size > COMMITTED  # the dead request's bytes are there

    head = client.head(upload_url, headers=TUS)
    offset = int(head["Upload-Offset"])
    assert offset == COMMITTED  # not the bytes written past it, never fsynced nor recorded
    assert partial.read_bytes()[:offset] == media[:offset]

    # As once the dead request's lease has run out.
    ResumableUpload.objects.filter(pk=upload_id_of(upload_url)).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    rest = media[offset:]
    finished = client.generic(
        "PATCH",
        upload_url,
        rest,
        content_type=OCTETS,
        headers={**TUS, "Upload-Offset": str(offset), "Upload-Checksum": checksum_header(rest)},
    )
    assert finished.status_code == 204, finished.content
    upload = ResumableUpload.objects.get(pk=upload_id_of(upload_url))
    assert upload.status == UploadStatus.COMPLETE
    original = settings.HUB_DATA_DIR / upload.capture.original_path
    assert original.read_bytes() == media
    assert upload.capture.original_sha256 == hashlib.sha256(media).hexdigest()


@pytest.mark.django_db
def test_the_offset_moves_only_after_the_chunk_is_fsynced(
    capturer_client: APIClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = make_media(tmp_path / "wound.jpg", COMMITTED * 2)[0].read_bytes()
    created = capturer_client.post(
        UPLOADS,
        headers={**TUS, "Upload-Length": str(len(media)), "Upload-Metadata": metadata_header()},
    )
    partial = partial_path(upload_id_of(created["Location"]))
    events: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if Path(f"/proc/self/fd/{fd}").samefile(partial):
            events.append(f"fsync, {partial.stat().st_size} bytes")

    def sql(execute, statement, params, many, context):
        if statement.startswith("UPDATE") and '"offset" =' in statement.split("WHERE")[0]:
            events.append("offset moved")
        return execute(statement, params, many, context)

    monkeypatch.setattr(os, "fsync", fsync)
    with connection.execute_wrapper(sql):
        answered = capturer_client.generic(
            "PATCH",
            created["Location"],
            media[:COMMITTED],
            content_type=OCTETS,
            headers={**TUS, "Upload-Offset": "0"},
        )
    assert answered.status_code == 204
    assert events == [f"fsync, {COMMITTED} bytes", "offset moved"]
