"""The agent decides from the hub's error envelope: retry on `retryable: true`, file the
photo in failed/ with the hub's reason on `retryable: false`, wait when its token is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.captures.models import Capture
from tests.media import make_jpeg
from tests.mobile_client.agent.agent_process import AgentProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def photo_agent(folder: Path, *, hub: str, token: str, state: Path) -> AgentProcess:
    return AgentProcess(
        folder,
        hub=hub,
        token=token,
        state=state,
        profile="photo-folder",
        extra=("--quiet-seconds", "0.3", "--no-progress"),
    )


def test_a_retryable_error_is_retried_until_the_hub_takes_the_photo(
    live_server, live_token: str, private_data_dir: Path, tmp_path: Path
) -> None:
    # The hub's uploads directory is a file: every creation fails with a 500
    # (`server_error`, retryable), as on a broken disk, until it is mended.
    uploads = private_data_dir / "uploads"
    uploads.write_text("not a directory")
    folder = tmp_path / "camera-share"
    folder.mkdir()
    photo = make_jpeg(folder / "MRN-0042_wound.jpg", width=320, height=240)
    agent = photo_agent(folder, hub=live_server.url, token=live_token, state=tmp_path / "state")
    agent.start()
    try:
        retries = wait_until(
            lambda: len(agent.events("retry")) >= 2 and agent.events("retry"),
            timeout=30,
            what="two retries",
            agent=agent,
        )
        assert retries[0]["reason"] == (
            "creating the upload: HTTP 500: the hub failed to answer this request; try again later"
        )
        assert not (folder / "failed").exists()
        assert photo.exists()

        uploads.unlink()
        wait_until(
            lambda: (folder / "done" / photo.name).exists(),
            timeout=60,
            what="the photo to be sent once the hub mends",
            agent=agent,
        )
        assert Capture.objects.get().original_name == photo.name
    finally:
        assert agent.stop() == 0


def test_a_non_retryable_error_files_the_photo_with_the_hubs_reason(
    live_server, live_token: str, tmp_path: Path, settings
) -> None:
    settings.HUB_MAX_UPLOAD_BYTES = 1000
    folder = tmp_path / "camera-share"
    folder.mkdir()
    photo = make_jpeg(folder / "MRN-0042_wound.jpg", width=320, height=240)
    size = photo.stat().st_size
    agent = photo_agent(folder, hub=live_server.url, token=live_token, state=tmp_path / "state")
    agent.start()
    try:
        reason = folder / "failed" / f"{photo.name}.reason.txt"
        wait_until(
            lambda: (folder / "failed" / photo.name).exists(),
            timeout=30,
            what="the refusal",
            agent=agent,
        )
        assert reason.read_text() == (
            f"HTTP 413: Upload-Length: the file is {size} bytes; this hub takes at most 1000\n"
        )
        assert agent.events("retry") == []  # given up at once: a retry cannot help
        assert Capture.objects.count() == 0
    finally:
        assert agent.stop() == 0


def test_a_refused_token_keeps_the_photo_waiting(live_server, tmp_path: Path) -> None:
    folder = tmp_path / "camera-share"
    folder.mkdir()
    photo = make_jpeg(folder / "MRN-0042_wound.jpg", width=64, height=48)
    agent = photo_agent(folder, hub=live_server.url, token="not-a-token", state=tmp_path / "state")
    agent.start()
    try:
        [retry, *_] = wait_until(
            lambda: agent.events("retry"), timeout=30, what="a retry", agent=agent
        )
        # Not retryable for the hub, but the token is at fault, not the photo.
        assert retry["reason"] == "HTTP 401: Authorization: Invalid token."
        assert photo.exists()
        assert not (folder / "failed").exists()
    finally:
        assert agent.stop() == 0
