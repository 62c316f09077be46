"""The pipeline's steps run in-process: claims, transitions, rejections, resume."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pydicom
import pytest
from django.utils import timezone

from hub.captures.leases import capture_claim
from hub.captures.models import Capture, CaptureStatus
from hub.captures.storage import data_path
from hub.matching.services import capture_match
from hub.pipeline.resume import stalled_work
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def test_a_step_is_claimed_once(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)

    assert capture_claim(capture.id, CaptureStatus.RECEIVED) is not None
    assert capture_claim(capture.id, CaptureStatus.RECEIVED) is None


def test_an_expired_lease_lets_the_step_be_taken_again(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    capture_claim(capture.id, CaptureStatus.RECEIVED)
    Capture.objects.filter(id=capture.id).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert capture_claim(capture.id, CaptureStatus.RECEIVED) is not None


def test_inspect_then_encapsulate_writes_the_minted_instance(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)

    assert capture_inspect(capture_id=capture.id)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    assert not capture_encapsulate(capture_id=capture.id)  # already moved on

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ENCAPSULATED
    assert capture.media_info["mime_type"] == "image/jpeg"
    (instance,) = capture.instances.all()
    ds = pydicom.dcmread(data_path(instance.path))
    assert ds.SOPInstanceUID == capture.sop_instance_uid == instance.sop_instance_uid
    assert ds.StudyInstanceUID == capture.study_instance_uid
    assert ds.PatientID == "MRN-1"


def test_a_truncated_photo_is_rejected_with_a_reason(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    original = data_path(capture.original_path)
    original.write_bytes(original.read_bytes()[: original.stat().st_size // 2])

    assert not capture_inspect(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.REJECTED
    assert capture.reason
    assert original.exists()  # the original is kept for a person to look at


def test_resume_finds_work_a_dead_worker_left(tmp_path: Path, settings) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 1
    quiet = received_capture(tmp_path, patient_id="A")
    busy = received_capture(tmp_path, patient_id="B")
    long_ago = timezone.now() - timedelta(minutes=5)
    Capture.objects.filter(id=quiet.id).update(updated_at=long_ago)
    Capture.objects.filter(id=busy.id).update(
        updated_at=long_ago, lease_until=timezone.now() + timedelta(minutes=5)
    )

    assert stalled_work().steps == [("inspect", str(quiet.id))]
