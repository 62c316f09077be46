"""Operators re-run matching for many unmatched captures at once, once the EMR is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent
from hub.captures.models import Capture, CaptureStatus
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def test_the_selected_unmatched_captures_are_matched_again_and_the_rest_left_alone(
    tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    operator = user_create_or_update(username="ops", role=Role.OPERATOR)
    browser = Client()
    browser.force_login(operator)
    waiting = [received_capture(tmp_path / name, patient_id=name) for name in ("A", "B")]
    archived = received_capture(tmp_path / "C", patient_id="C")
    for capture in waiting:
        Capture.objects.filter(id=capture.id).update(
            status=CaptureStatus.UNMATCHED, reason="the EMR refused the look-up: 503"
        )
    Capture.objects.filter(id=archived.id).update(status=CaptureStatus.ARCHIVED)

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        page = browser.post(
            "/admin/captures/capture/",
            {
                "action": "match_again",
                "_selected_action": [str(c.id) for c in (*waiting, archived)],
            },
            follow=True,
        )

    assert "2 capture(s) are being matched again" in page.content.decode()
    assert len(enqueued) == 2
    for capture in waiting:
        capture.refresh_from_db()
        assert (capture.status, capture.reason) == (CaptureStatus.INSPECTED, "")
        event = AuditEvent.objects.get(capture_id=capture.id, action="match-again")
        assert event.actor == operator
        assert "503" in event.note
    archived.refresh_from_db()
    assert archived.status == CaptureStatus.ARCHIVED


def test_capturers_cannot_run_the_action(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.UNMATCHED)
    browser = Client()
    browser.force_login(user_create_or_update(username="nurse", role=Role.CAPTURER))

    browser.post(
        "/admin/captures/capture/",
        {"action": "match_again", "_selected_action": [str(capture.id)]},
    )

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
