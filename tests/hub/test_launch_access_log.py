"""The web server's access log keeps method, path and status, never the query string."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import requests

from hub.launch import hub_children
from tests.peers.ports import free_port

pytestmark = pytest.mark.integration


def test_a_request_with_a_query_string_is_logged_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update(
        DJANGO_SECRET_KEY="access-log-test",
        HUB_DATA_DIR=str(data_dir),
        HUB_PORT=str(port),
        HUB_WEB_WORKERS="1",
    )
    for name in ("HUB_PORT", "HUB_WEB_WORKERS"):  # hub_children reads its own environment
        monkeypatch.setenv(name, env[name])
    (web,) = [child for child in hub_children(sys.executable, data_dir) if child.name == "web"]
    web.env, web.log = env, tmp_path / "web.log"
    web.start()
    try:
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline:
            try:
                status = requests.get(
                    f"http://127.0.0.1:{port}/api/v1/captures",
                    params={"identifier": "MRN-IN-QUERY", "limit": "5"},
                    headers={"Referer": f"http://127.0.0.1:{port}/admin/?q=MRN-IN-REFERER"},
                    timeout=60,
                ).status_code
            except requests.ConnectionError:
                time.sleep(0.2)
        assert status == 401, web.log.read_text()[-3000:]
        deadline = time.monotonic() + 10
        while '"GET /api/v1/captures' not in web.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        web.stop()

    log = web.log.read_text()
    (line,) = [line for line in log.splitlines() if '"GET /api/v1/captures' in line]
    assert '"GET /api/v1/captures HTTP/1.1" 401' in line
    assert "?" not in line
    assert "MRN-IN" not in log
