"""`make run` with HUB_TLS_CERT and HUB_TLS_KEY serves HTTPS, as a phone's camera needs."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from hub.launch import hub_children, tls_arguments
from tests.integration.faults import wait_until
from tests.peers.ports import free_port


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, made for this test by openssl."""
    cert, key = folder / "hub.crt", folder / "hub.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_needs_both_files_or_none(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    assert tls_arguments({}) == []
    assert tls_arguments({"HUB_TLS_CERT": str(cert), "HUB_TLS_KEY": str(key)}) == [
        "--certfile", str(cert), "--keyfile", str(key),
    ]  # fmt: skip
    with pytest.raises(SystemExit, match="set both or neither"):
        tls_arguments({"HUB_TLS_CERT": str(cert)})
    with pytest.raises(SystemExit, match="is not a file"):
        tls_arguments({"HUB_TLS_CERT": str(cert), "HUB_TLS_KEY": str(tmp_path / "nope")})


@pytest.mark.integration
def test_the_web_process_make_run_starts_answers_over_https_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    monkeypatch.setenv("HUB_TLS_CERT", str(cert))
    monkeypatch.setenv("HUB_TLS_KEY", str(key))
    monkeypatch.setenv("HUB_PORT", str(port))
    monkeypatch.setenv("HUB_WEB_WORKERS", "1")
    data = tmp_path / "data"
    data.mkdir()
    web = next(c for c in hub_children(sys.executable, data) if c.name == "web")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update(HUB_DATA_DIR=str(data), HUB_PUBLIC_URL=f"https://localhost:{port}")
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        server = subprocess.Popen(web.command, cwd=web.cwd, env=env, stdout=out, stderr=out)
    url = f"https://localhost:{port}/healthz"
    try:

        def answers() -> bool:
            try:
                return requests.get(url, verify=str(cert), timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, timeout=60, what="the hub answers over HTTPS", log=log.read_text())
        answer = requests.get(url, verify=str(cert), timeout=5)
        assert answer.json()["status"] == "ok"
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        # The certificate is the one given, for the name the phone uses.
        served = ssl.get_server_certificate(("127.0.0.1", port))
        assert served.strip() == cert.read_text().strip()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://localhost:{port}/healthz", timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)
