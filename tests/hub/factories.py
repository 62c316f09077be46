"""Captures in a given state, made through the real receipt service."""

from __future__ import annotations

from pathlib import Path

from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture
from hub.captures.receive import Upload, capture_receive
from hub.pipeline.steps import capture_inspect
from tests.media import make_jpeg


def received_capture(
    tmp_path: Path,
    *,
    patient_id: str = "MRN-1",
    context: dict | None = None,
    inspected: bool = False,
) -> Capture:
    """A capture as the API makes it; `inspected` runs the inspect step too."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    photo = make_jpeg(tmp_path / f"{patient_id}.jpg", width=64, height=48).read_bytes()
    user = user_create_or_update(username="factory", role=Role.CAPTURER)
    capture = capture_receive(
        user=user,
        upload=Upload(name="photo.jpg", size=len(photo), head=photo[:4096], chunks=[photo]),
        context_data=context or {"patient": {"id": patient_id}},
        max_bytes=10**9,
    ).capture
    if inspected:
        capture_inspect(capture_id=capture.id)
        capture.refresh_from_db()
    return capture


def browser_for(role: Role) -> Client:
    """A browser signed in to the admin as a user with exactly `role`."""
    client = Client()
    client.force_login(user_create_or_update(username=f"user-{role.value}", role=role))
    return client
