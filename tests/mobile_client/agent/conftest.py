"""Fixtures for the agent's tests against the real hub.

The agent runs as its own process (`python -m mobile_client.agent`), as on a
tower, and reaches pytest-django's `live_server` over HTTP only. The real
stack's fixtures (`orthanc`, `celery_worker`, `hub_stack`, `wait_for_status`)
are never declared here: a second declaration of a session fixture would start
a second Celery worker on the same queues, delivering to another Orthanc. They
come from tests/conftest.py (or, before the stack moved there, from
tests/mobile_client/conftest.py and tests/integration).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.accounts.roles import Role
from tests.conftest import api_client_for

# The stack fixtures' old home; only the function-scoped one is taken from it.
# Once tests/conftest.py holds them all, the import finds nothing and is skipped.
with contextlib.suppress(ImportError):
    from tests.integration.conftest import wait_for_status  # noqa: F401


@pytest.fixture
def live_token(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """A capturer's token; the pipeline's Celery task is not published (no worker here)."""
    from hub.pipeline.tasks import inspect_capture

    monkeypatch.setattr(inspect_capture, "delay", lambda capture_id: None)
    return device_token("tower-live")


def device_token(username: str) -> str:
    return api_client_for(username, Role.CAPTURER).token  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def endoscopy_mpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 22 MB of MPEG-2 (MP@ML, 15 Mbit/s CBR) in an MPEG program stream, as towers export.

    Noise keeps the encoder from shrinking it; 12 s at 720x576 PAL.
    """
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed to make the endoscopy clip (Debian package ffmpeg)")
    clip = tmp_path_factory.mktemp("tower") / "source.mpg"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=size=720x576:rate=25,noise=alls=30:allf=t", "-t", "12",
         "-c:v", "mpeg2video", "-b:v", "15M", "-minrate", "15M", "-maxrate", "15M",
         "-bufsize", "1835k", "-muxrate", "16M", "-f", "mpeg", str(clip)],
        check=True,
    )  # fmt: skip
    return clip
