"""Devices enroll with a one-time code valid for minutes, and get a token of their own."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from hub.accounts.models import Device, EnrollmentCode, HubToken, TokenKind
from hub.accounts.roles import Role, user_roles

AGENT_TIMEOUT_SECONDS = 60


def hubdevice(name: str) -> str:
    out = StringIO()
    call_command("hubdevice", name, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def enroll(hub_url: str, code: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mobile_client.agent", "enroll", code, "--hub", hub_url,
         "--state", str(state)],
        capture_output=True, text=True, timeout=AGENT_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip


@pytest.mark.django_db
def test_hubdevice_prints_a_code_stored_only_as_its_digest() -> None:
    code = hubdevice("endo-tower-3")

    device = Device.objects.get(name="endo-tower-3")
    assert user_roles(device.user) == {Role.DEVICE}
    assert not device.user.has_usable_password()
    stored = EnrollmentCode.objects.get(device=device)
    assert code not in stored.digest and len(code) == 10
    assert stored.expires_at - timezone.now() <= timedelta(minutes=10)


def test_the_agent_enrolls_once_with_a_code_and_sends_with_its_own_token(
    live_server, transactional_db: None, tmp_path: Path
) -> None:
    code = hubdevice("endo-tower-3")

    first = enroll(live_server.url, code, tmp_path / "state")
    again = enroll(live_server.url, code, tmp_path / "other")

    assert first.returncode == 0, first.stderr
    token_file = tmp_path / "state" / "token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    (issued,) = HubToken.objects.filter(device__name="endo-tower-3")
    assert issued.kind == TokenKind.DEVICE and issued.expiry > timezone.now()
    captures = requests.get(
        f"{live_server.url}/api/v1/captures",
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert captures.status_code == 200
    assert again.returncode == 1
    assert "enrollment_code_invalid" in again.stderr or "unknown, used or expired" in again.stderr
    assert not (tmp_path / "other" / "token").exists()


def test_an_expired_code_is_refused(live_server, transactional_db: None, tmp_path: Path) -> None:
    code = hubdevice("pocus-dock-1")
    EnrollmentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    result = enroll(live_server.url, code, tmp_path / "state")

    assert result.returncode == 1
    assert "unknown, used or expired" in result.stderr
    assert not HubToken.objects.filter(device__name="pocus-dock-1").exists()


def test_a_new_code_voids_the_unused_one(live_server, transactional_db: None) -> None:
    old = hubdevice("pocus-dock-1")
    new = hubdevice("pocus-dock-1")

    refused = requests.post(
        f"{live_server.url}/api/v1/devices/enroll", json={"code": old}, timeout=10
    )
    taken = requests.post(
        f"{live_server.url}/api/v1/devices/enroll", json={"code": new}, timeout=10
    )

    assert refused.status_code == 400
    assert json.loads(refused.content)["error"]["code"] == "enrollment_code_invalid"
    assert taken.status_code == 200
