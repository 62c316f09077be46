"""Production settings: `check --deploy` clean over HTTPS, CSP, no-store on PHI, JSON only."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from hub.accounts.checks import data_directory_errors
from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.capture_api.test_bad_input import photo  # noqa: F401  (the fixture)
from tests.capture_api.tus_helpers import CONTEXT_JSON

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_", "DATABASE"))
    }
    data = tmp_path / "data"
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "false",
            "HUB_DATA_DIR": str(data),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_production_mode_passes_check_deploy_without_a_warning(tmp_path: Path) -> None:
    result = deploy_check(
        tmp_path,
        HUB_PUBLIC_URL="https://hub.example.org",
        HUB_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing(tmp_path: Path) -> None:
    result = deploy_check(tmp_path)
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in result.stderr + result.stdout


@pytest.mark.django_db
def test_api_answers_are_never_cached_and_carry_a_csp(capturer_client: APIClient) -> None:
    for response in (
        capturer_client.get("/api/v1/captures"),
        capturer_client.get("/api/v1/captures/nope"),
        APIClient().get("/api/v1/captures"),
    ):
        assert response["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_admin_pages_carry_a_csp_and_are_not_cached() -> None:
    response = Client().get("/admin/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_there_is_no_browsable_api(capturer_client: APIClient) -> None:
    response = capturer_client.get("/api/v1/captures", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_an_original_is_stored_0600_in_0700_folders(
    capturer_client: APIClient,
    photo: bytes,  # noqa: F811
) -> None:
    file = BytesIO(photo)
    file.name = "p.jpg"
    created = capturer_client.post(
        "/api/v1/captures", {"file": file, "context": CONTEXT_JSON}, format="multipart"
    )
    assert created.status_code == 201, created.content
    original = data_path(Capture.objects.get().original_path)
    assert stat.S_IMODE(original.stat().st_mode) & 0o077 == 0
    folder = original.parent
    while folder != settings.HUB_DATA_DIR.parent:
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder
        folder = folder.parent


def test_a_data_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (error,) = data_directory_errors(tmp_path)
    assert error.id == "hub.E001" and "chmod 700" in error.hint
    tmp_path.chmod(0o700)
    assert data_directory_errors(tmp_path) == []
