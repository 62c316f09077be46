"""The hub serves the built capture app at /capture/ with the right types and caching."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client


@pytest.fixture
def built(settings, tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "vendor").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Capture</title>")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (dist / "manifest.webmanifest").write_text("{}")
    (dist / "vendor" / "zxing.wasm").write_bytes(b"\0asm\1\0\0\0")
    settings.HUB_PWA_DIR = dist
    return dist


def test_the_app_is_served_with_fresh_page_and_worker(built: Path) -> None:
    client = Client()

    page = client.get("/capture/")
    worker = client.get("/capture/sw.js")
    manifest = client.get("/capture/manifest.webmanifest")
    wasm = client.get("/capture/vendor/zxing.wasm")

    assert page.status_code == 200 and b"Capture" in b"".join(page.streaming_content)
    assert page["Cache-Control"] == "no-cache"
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/capture/"
    assert manifest["Content-Type"] == "application/manifest+json"
    assert wasm["Content-Type"] == "application/wasm"
    assert wasm["Cache-Control"].startswith("public")


def test_no_path_escapes_the_app(built: Path) -> None:
    for escape in ("/capture/../settings.py", "/capture/%2e%2e/secret", "/capture/vendor/../../x"):
        assert Client().get(escape).status_code in (400, 404)


def test_an_unbuilt_app_says_how_to_build_it(settings, tmp_path: Path) -> None:
    settings.DEBUG = False  # as in production, where Django's own error pages say nothing
    settings.HUB_PWA_DIR = tmp_path / "nothing"

    for path in ("/capture/", "/capture/sw.js"):
        response = Client().get(path)

        assert response.status_code == 503
        assert response["Content-Type"].startswith("text/plain")
        assert response["Cache-Control"] == "no-store"
        text = response.content.decode()
        assert "not built" in text
        assert "make run" in text
        assert "npm run build --prefix mobile_client/pwa" in text
