"""The EMR notice's due time: claimed once, due again after a failure, given up at the bound."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.leases import capture_notice_claim, capture_notice_due, capture_notice_failed
from hub.captures.models import Capture, CaptureStatus
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def _archived(tmp_path: Path, **fields: object) -> Capture:
    capture = received_capture(tmp_path)
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.ARCHIVED, **fields)
    return Capture.objects.get(id=capture.id)


def test_a_due_notice_is_taken_once_and_a_done_one_never(tmp_path: Path) -> None:
    capture = _archived(tmp_path, emr_notice_due_at=timezone.now())

    assert capture_notice_claim(capture.id)
    assert not capture_notice_claim(capture.id)  # a second message, or a second beat

    capture_notice_due(capture.id, None)
    assert Capture.objects.get(id=capture.id).emr_notice_due_at is None
    assert not capture_notice_claim(capture.id)


def test_a_notice_that_raised_is_due_again_later_then_given_up(tmp_path: Path, settings) -> None:
    settings.HUB_WRITEBACK_MAX_ATTEMPTS = 3
    settings.HUB_WRITEBACK_RETRY_BASE_SECONDS = 10
    settings.HUB_WRITEBACK_RETRY_MAX_SECONDS = 100
    capture = _archived(tmp_path, emr_notice_due_at=timezone.now(), emr_attempts=1)

    capture_notice_failed(capture.id, ValueError("bad bundle"))
    waiting = Capture.objects.get(id=capture.id)
    assert waiting.emr_notice == "waiting: ValueError: bad bundle"
    assert waiting.emr_notice_due_at > timezone.now() + timedelta(seconds=5)

    Capture.objects.filter(id=capture.id).update(emr_attempts=3)
    capture_notice_failed(capture.id, ValueError("bad bundle"))
    given_up = Capture.objects.get(id=capture.id)
    assert given_up.emr_notice == "gave up: ValueError: bad bundle"
    assert given_up.emr_notice_due_at is None
