"""The sweep: due retries sent from the database, lost work found, nothing sent twice in a row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery, DeliveryStatus, Withdrawal
from hub.pipeline.resume import stalled_sent, stalled_work
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db

S = CaptureStatus


def _delivering(tmp_path: Path, name: str) -> Capture:
    capture = received_capture(tmp_path / name, patient_id=name)
    Capture.objects.filter(id=capture.id).update(status=S.DELIVERING)
    return capture


def test_a_retry_is_sent_when_it_falls_due_and_not_before(tmp_path: Path, settings) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 600
    now = timezone.now()
    capture = _delivering(tmp_path, "A")
    due = Delivery.objects.create(
        capture=capture, destination="archive", status=DeliveryStatus.RETRYING
    )
    later = Delivery.objects.create(
        capture=capture, destination="mhd", status=DeliveryStatus.RETRYING
    )
    Delivery.objects.filter(id=due.id).update(
        next_attempt_at=now - timedelta(seconds=1), updated_at=now - timedelta(seconds=30)
    )
    Delivery.objects.filter(id=later.id).update(
        next_attempt_at=now + timedelta(seconds=30), updated_at=now - timedelta(seconds=30)
    )

    first = stalled_work()
    stalled_sent(first)
    second = stalled_work()

    assert first.deliveries == [due.id]
    assert second.deliveries == []  # sent once; the quiet interval guards a second send
    assert Delivery.objects.get(id=due.id).updated_at > now


def test_a_lease_that_ran_out_is_resumed_at_once_and_a_quiet_capture_after_the_interval(
    tmp_path: Path, settings
) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 60
    now = timezone.now()
    dead = received_capture(tmp_path / "dead", patient_id="dead")
    fresh = received_capture(tmp_path / "fresh", patient_id="fresh")
    lost = received_capture(tmp_path / "lost", patient_id="lost")
    Capture.objects.filter(id=dead.id).update(
        lease_until=now - timedelta(seconds=1), updated_at=now - timedelta(seconds=20)
    )
    Capture.objects.filter(id=lost.id).update(updated_at=now - timedelta(minutes=5))

    steps = sorted(stalled_work().steps)

    assert steps == sorted([("inspect", str(dead.id)), ("inspect", str(lost.id))])
    assert str(fresh.id) not in {capture_id for _, capture_id in steps}


def test_an_emr_notice_whose_message_was_lost_is_sent_by_the_sweep(
    tmp_path: Path, settings
) -> None:
    now = timezone.now()
    capture = received_capture(tmp_path)
    Capture.objects.filter(id=capture.id).update(
        status=S.ARCHIVED,
        emr_notice_due_at=now - timedelta(seconds=1),
        updated_at=now - timedelta(seconds=2),
    )
    done = received_capture(tmp_path / "done", patient_id="done")
    Capture.objects.filter(id=done.id).update(status=S.ARCHIVED, emr_notice_due_at=None)

    assert stalled_work().notices == [str(capture.id)]


def test_a_withdrawal_due_after_the_corrected_copy_is_archived_is_sent_by_the_sweep(
    tmp_path: Path,
) -> None:
    capture = received_capture(tmp_path)
    Withdrawal.objects.create(
        capture=capture,
        sop_instance_uid="1.2.3.4",
        sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
        study_instance_uid="1.2.3",
        path="dicom/x.dcm",
        reason="PATIENT_SAFETY",
        note_series_instance_uid="1.2.3.5",
        note_sop_instance_uid="1.2.3.6",
    )
    assert stalled_work().withdrawals == []  # not archived again yet

    Capture.objects.filter(id=capture.id).update(status=S.ARCHIVED)
    assert stalled_work().withdrawals == [str(capture.id)]

    Withdrawal.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert stalled_work().withdrawals == []


def test_quiet_work_waits_while_its_queue_holds_messages_but_a_lapsed_lease_does_not(
    tmp_path: Path, settings
) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 60
    now = timezone.now()
    queued = received_capture(tmp_path / "queued", patient_id="queued")
    dead = received_capture(tmp_path / "dead", patient_id="dead")
    Capture.objects.filter(id=queued.id).update(updated_at=now - timedelta(minutes=5))
    Capture.objects.filter(id=dead.id).update(
        lease_until=now - timedelta(seconds=1), updated_at=now - timedelta(seconds=20)
    )
    cpu = frozenset({settings.HUB_QUEUE_CPU})

    assert stalled_work(busy_queues=cpu).steps == [("inspect", str(dead.id))]
    assert sorted(stalled_work(busy_queues=frozenset()).steps) == sorted(
        [("inspect", str(queued.id)), ("inspect", str(dead.id))]
    )


def test_the_sweep_reads_which_queues_hold_messages_from_a_real_redis(
    tmp_path: Path, settings
) -> None:
    from hub.pipeline.tasks import busy_queues, inspect_capture
    from tests.integration.faults import enqueue
    from tests.peers.redis import RedisPeer

    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    try:
        assert busy_queues(redis.url) == frozenset()
        enqueue(redis.url, inspect_capture, "no-such-capture")
        assert busy_queues(redis.url) == frozenset({settings.HUB_QUEUE_CPU})
    finally:
        redis.stop()


def test_of_two_sweeps_that_read_the_same_work_each_item_is_sent_by_one(
    tmp_path: Path, settings
) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    captures = [received_capture(tmp_path / n, patient_id=n) for n in ("A", "B", "C")]
    Capture.objects.update(updated_at=long_ago)
    delivering = _delivering(tmp_path, "D")
    delivery = Delivery.objects.create(capture=delivering, destination="archive")
    Delivery.objects.filter(id=delivery.id).update(updated_at=long_ago)
    Capture.objects.filter(id=delivering.id).update(
        status=S.ARCHIVED, emr_notice_due_at=long_ago, updated_at=long_ago
    )

    # Two beats' sweeps read the same rows before either sends.
    first, second = stalled_work(), stalled_work()
    assert first == second
    sent_first, sent_second = stalled_sent(first), stalled_sent(second)

    assert sorted(sent_first.steps) == sorted(("inspect", str(c.id)) for c in captures)
    assert sent_first.deliveries == [delivery.id]
    assert sent_first.notices == [str(delivering.id)]
    assert (sent_second.steps, sent_second.deliveries, sent_second.notices) == ([], [], [])


def _measuring(tmp_path: Path, name: str, **fields: object) -> Capture:
    capture = received_capture(tmp_path / name, patient_id=name)
    Capture.objects.filter(id=capture.id).update(
        status=S.ENCAPSULATED, measurement_state="due", **fields
    )
    return capture


def test_a_measurement_a_killed_worker_or_a_lost_message_left_is_resumed_at_the_measurement(
    tmp_path: Path, settings
) -> None:
    settings.HUB_RESUME_INTERVAL_SECONDS = 60
    now = timezone.now()
    killed = _measuring(
        tmp_path,
        "killed",
        lease_until=now - timedelta(seconds=1),
        updated_at=now - timedelta(seconds=20),
    )
    lost = _measuring(tmp_path, "lost", updated_at=now - timedelta(minutes=5))
    measured = received_capture(tmp_path / "measured", patient_id="measured")
    Capture.objects.filter(id=measured.id).update(
        status=S.ENCAPSULATED, measurement_state="refused", updated_at=now - timedelta(minutes=5)
    )
    cpu, io = frozenset({settings.HUB_QUEUE_CPU}), frozenset({settings.HUB_QUEUE_IO})

    assert sorted(stalled_work().steps) == sorted(
        [("measure", str(killed.id)), ("measure", str(lost.id)), ("deliver", str(measured.id))]
    )
    # The measurement's message waits on the cpu queue, the delivery's on the io one.
    assert sorted(stalled_work(busy_queues=cpu).steps) == sorted(
        [("measure", str(killed.id)), ("deliver", str(measured.id))]
    )
    assert sorted(stalled_work(busy_queues=io).steps) == sorted(
        [("measure", str(killed.id)), ("measure", str(lost.id))]
    )
