"""Retention: past their time a capture's row and files go, audited; a killed purge is finished."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hub.audit.fhir import audit_event_resource
from hub.audit.models import AuditEvent
from hub.captures import retention
from hub.captures.leases import capture_notice_due
from hub.captures.models import Capture, CapturePurge, CaptureStatus, DicomInstance
from hub.captures.retention import capture_delete, captures_purge_expired
from hub.captures.states import capture_move
from hub.captures.storage import data_path
from hub.delivery.models import Delivery, Destination
from hub.delivery.services import capture_deliveries_start, delivery_attempt
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def archived_capture(tmp_path: Path, patient_id: str) -> Capture:
    """A capture taken through the real steps to a folder destination, its notice done."""
    share = tmp_path / "share"
    share.mkdir(exist_ok=True)
    Destination.objects.get_or_create(name="share", kind="folder", defaults={"folder": str(share)})
    capture = received_capture(
        tmp_path / patient_id, context={"patient": {"id": patient_id}, "specialty": "dermatology"}
    )
    capture_inspect(capture_id=capture.id)
    capture_match(capture_id=capture.id)
    capture_encapsulate(capture_id=capture.id)
    for delivery_id in capture_deliveries_start(capture_id=capture.id):
        delivery_attempt(delivery_id=delivery_id)
    capture_notice_due(capture.id, None)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ARCHIVED
    return capture


def delivered_days_ago(capture: Capture, days: int) -> None:
    Delivery.objects.filter(capture=capture).update(
        delivered_at=timezone.now() - timedelta(days=days)
    )


def rejected_capture(tmp_path: Path, patient_id: str, *, days_ago: int) -> Capture:
    capture = received_capture(tmp_path / patient_id, patient_id=patient_id)
    capture_move(
        capture.id,
        source=CaptureStatus.RECEIVED,
        target=CaptureStatus.REJECTED,
        reason="not a photo",
    )
    Capture.objects.filter(id=capture.id).update(
        updated_at=timezone.now() - timedelta(days=days_ago)
    )
    capture.refresh_from_db()
    return capture


def files_of(capture: Capture) -> list[Path]:
    paths = [data_path(capture.original_path)]
    paths += [data_path(i.path) for i in DicomInstance.objects.filter(capture=capture)]
    return paths


def test_an_archived_capture_is_purged_after_the_retention_window_and_kept_before(
    tmp_path: Path, private_data_dir: Path, settings
) -> None:
    settings.HUB_RETENTION_DAYS = 30
    old = archived_capture(tmp_path, "MRN-OLD")
    young = archived_capture(tmp_path, "MRN-YOUNG")
    delivered_days_ago(old, 31)
    delivered_days_ago(young, 29)
    old_files, young_files = files_of(old), files_of(young)
    assert len(old_files) == 2 and all(p.is_file() for p in old_files + young_files)

    assert captures_purge_expired() == [str(old.id)]

    assert not Capture.objects.filter(id=old.id).exists()
    assert not DicomInstance.objects.filter(capture_id=old.id).exists()
    assert not Delivery.objects.filter(capture_id=old.id).exists()
    assert not any(p.exists() for p in old_files)
    assert not (private_data_dir / "dicom" / str(old.id)).exists()
    assert Capture.objects.filter(id=young.id).exists()
    assert all(p.is_file() for p in young_files)
    # What the archive holds stays there: the folder destination still has its file.
    assert len(list((tmp_path / "share").rglob("*.dcm"))) == 2

    (event,) = AuditEvent.objects.filter(action="capture.purge")
    assert (event.capture_id, event.patient, event.actor_id, event.actor_name) == (
        old.id,
        "MRN-OLD",
        None,
        "",
    )
    assert {entry["path"] for entry in event.before} == {
        old.original_path,
        f"dicom/{old.id}",
        *(str(p.relative_to(private_data_dir)) for p in old_files[1:]),
    }
    assert all(entry["bytes"] > 0 for entry in event.before)
    resource = audit_event_resource(event)
    assert (resource["action"], resource["subtype"][0]["code"]) == ("D", "delete")
    assert resource["agent"][0]["who"]["display"] == "capture hub"


def test_an_archived_capture_waiting_for_a_withdrawal_or_notice_or_with_retention_off_is_kept(
    tmp_path: Path, private_data_dir: Path, settings
) -> None:
    settings.HUB_RETENTION_DAYS = 30
    waiting = archived_capture(tmp_path, "MRN-NOTICE")
    delivered_days_ago(waiting, 60)
    Capture.objects.filter(id=waiting.id).update(emr_notice_due_at=timezone.now())
    assert captures_purge_expired() == []

    settings.HUB_RETENTION_DAYS = 0
    capture_notice_due(waiting.id, None)
    assert captures_purge_expired() == []
    assert Capture.objects.filter(id=waiting.id).exists()


def test_a_rejected_original_is_quarantined_then_purged_after_its_own_window(
    tmp_path: Path, private_data_dir: Path, settings
) -> None:
    settings.HUB_REJECTED_RETENTION_DAYS = 90
    recent = rejected_capture(tmp_path, "MRN-R1", days_ago=10)
    old = rejected_capture(tmp_path, "MRN-R2", days_ago=91)
    first_place = data_path(recent.original_path)

    assert captures_purge_expired() == [str(old.id)]

    recent.refresh_from_db()
    assert recent.original_path == f"quarantine/{recent.id}{first_place.suffix}"
    assert data_path(recent.original_path).is_file() and not first_place.exists()
    assert (private_data_dir / "quarantine").stat().st_mode & 0o077 == 0
    assert not Capture.objects.filter(id=old.id).exists()
    assert list((private_data_dir / "quarantine").iterdir()) == [data_path(recent.original_path)]
    (event,) = AuditEvent.objects.filter(action="capture.purge")
    assert (event.capture_id, event.patient) == (old.id, "MRN-R2")
    assert "rejected" in event.note


def test_a_purge_killed_half_way_is_finished_by_the_next_sweep_and_audited_once(
    tmp_path: Path, private_data_dir: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HUB_RETENTION_DAYS = 30
    capture = archived_capture(tmp_path, "MRN-KILL")
    delivered_days_ago(capture, 40)
    paths = [*files_of(capture), private_data_dir / "dicom" / str(capture.id)]
    real_remove = retention._remove
    removed: list[Path] = []

    def killed_after_one(path: Path) -> None:
        if removed:
            raise SystemExit("the worker was killed")
        real_remove(path)
        removed.append(path)

    monkeypatch.setattr(retention, "_remove", killed_after_one)
    with pytest.raises(SystemExit):
        captures_purge_expired()
    assert not Capture.objects.filter(id=capture.id).exists()
    assert 0 < sum(p.exists() for p in paths) < len(paths)  # some files gone, not all
    assert CapturePurge.objects.get(capture_id=capture.id).done_at is None
    assert not AuditEvent.objects.filter(action="capture.purge").exists()

    monkeypatch.setattr(retention, "_remove", real_remove)
    assert captures_purge_expired() == [str(capture.id)]
    assert captures_purge_expired() == []

    assert not any(p.exists() for p in paths)
    assert AuditEvent.objects.filter(action="capture.purge", capture_id=capture.id).count() == 1


def test_a_deleted_capture_loses_its_files_only_once_the_delete_commits(
    tmp_path: Path, private_data_dir: Path, django_capture_on_commit_callbacks
) -> None:
    capture = archived_capture(tmp_path, "MRN-DEL")
    paths = files_of(capture)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        capture_delete(capture_id=capture.id)
    assert not Capture.objects.filter(id=capture.id).exists()
    assert all(p.exists() for p in paths)
    for callback in callbacks:
        callback()

    assert not any(p.exists() for p in paths)
    (event,) = AuditEvent.objects.filter(action="capture.purge")
    assert (event.capture_id, event.patient, event.note) == (
        capture.id,
        "MRN-DEL",
        "deleted by a person",
    )


def test_a_purge_leaves_a_file_another_capture_still_names(
    tmp_path: Path, private_data_dir: Path, django_capture_on_commit_callbacks
) -> None:
    kept = received_capture(tmp_path / "kept", patient_id="MRN-K")
    gone = received_capture(tmp_path / "gone", patient_id="MRN-G")
    Capture.objects.filter(id=gone.id).update(original_path=kept.original_path)

    with django_capture_on_commit_callbacks(execute=True):
        capture_delete(capture_id=gone.id)

    assert data_path(kept.original_path).is_file()
    assert Capture.objects.filter(id=kept.id).exists()
