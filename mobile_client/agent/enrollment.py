"""Enrollment: the device trades the hub's one-time code for a token of its own.

`python -m mobile_client.agent enroll CODE --hub URL` writes the token to the
state directory (0600), where `watch` finds it; the code is spent by the hub
on first use, so a second enrollment with it is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests

from mobile_client.agent.hub_client import HubRefused, classify

ENROLL_PATH = "/api/v1/devices/enroll"
ENROLL_TIMEOUT_SECONDS = 30
TOKEN_FILE_NAME = "token"


def device_enroll(hub_url: str, code: str) -> str:
    """The device's token for `code`; HubRefused (bad code) or HubUnavailable (try later)."""
    try:
        response = requests.post(
            hub_url.rstrip("/") + ENROLL_PATH,
            json={"code": code},
            headers={"Accept": "application/json"},
            timeout=ENROLL_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise classify(None, str(error), doing="enrolling") from None
    if response.status_code != 200:
        raise classify(
            response.status_code,
            response.content,
            doing="enrolling",
            retry_after=response.headers.get("Retry-After"),
        )
    token = response.json().get("token")
    if not isinstance(token, str) or not token:
        raise HubRefused("the hub's answer holds no token", status=response.status_code)
    return token


def token_store(state: Path, token: str) -> Path:
    """Writes the token where only this user can read it; returns the file."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state / TOKEN_FILE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    path.chmod(0o600)
    return path


def token_stored(state: Path) -> str | None:
    path = state / TOKEN_FILE_NAME
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
