"""Short leases kept alive by a heartbeat, and a bound on the tries of a step."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from hub.captures.leases import capture_claim, capture_release, leases_renewed
from hub.captures.models import Capture, CaptureStatus
from hub.pipeline.steps import capture_step_retry
from tests.hub.factories import received_capture

S = CaptureStatus

pytestmark = pytest.mark.django_db

# The heartbeat writes from a thread of its own, so its tests commit their rows
# (transaction=True), where the suite's running worker can see them; they claim
# in a state its sweep never resumes (unmatched), so that it leaves them alone.
committed = pytest.mark.django_db(transaction=True)
QUIET = S.UNMATCHED


def _waiting(tmp_path: Path) -> Capture:
    capture = received_capture(tmp_path)
    Capture.objects.filter(id=capture.id).update(status=QUIET)
    return capture


@committed
def test_a_live_step_longer_than_its_lease_is_never_taken_twice(tmp_path: Path, settings) -> None:
    settings.HUB_STEP_LEASE_SECONDS = 3
    capture = _waiting(tmp_path)
    taken_by_another = []
    with leases_renewed(every=0.5):
        assert capture_claim(capture.id, QUIET) is not None
        deadline = time.monotonic() + 2.5 * settings.HUB_STEP_LEASE_SECONDS
        while time.monotonic() < deadline:
            taken_by_another.append(capture_claim(capture.id, QUIET) is not None)
            time.sleep(0.2)
    assert len(taken_by_another) > 10
    assert not any(taken_by_another)


def test_a_dead_workers_step_is_taken_again_once_its_lease_runs_out(
    tmp_path: Path, settings
) -> None:
    settings.HUB_STEP_LEASE_SECONDS = 1
    capture = received_capture(tmp_path)
    assert capture_claim(capture.id, S.RECEIVED) is not None  # and its worker dies: no heartbeat

    assert capture_claim(capture.id, S.RECEIVED) is None
    time.sleep(1.6)
    again = capture_claim(capture.id, S.RECEIVED)

    assert again is not None
    assert again.step_attempts == 2


@committed
def test_the_heartbeat_stops_when_the_step_ends(tmp_path: Path, settings) -> None:
    settings.HUB_STEP_LEASE_SECONDS = 1
    capture = _waiting(tmp_path)
    with leases_renewed(every=0.2):
        assert capture_claim(capture.id, QUIET) is not None
        time.sleep(0.5)
    time.sleep(2.0)
    assert capture_claim(capture.id, QUIET) is not None


@committed
def test_two_workers_claiming_at_once_get_the_step_once(tmp_path: Path) -> None:
    capture = _waiting(tmp_path)
    start = threading.Barrier(2)
    won = []

    def claim() -> None:
        try:
            start.wait(timeout=10)
            won.append(capture_claim(capture.id, QUIET) is not None)
        finally:
            connection.close()  # this thread's own

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(won) == [False, True]


def test_a_step_that_keeps_crashing_fails_with_its_last_error_and_an_operator_can_retry_it(
    tmp_path: Path, settings
) -> None:
    settings.HUB_STEP_MAX_ATTEMPTS = 3
    capture = received_capture(tmp_path)
    for _ in range(3):
        claimed = capture_claim(capture.id, S.RECEIVED)
        assert claimed is not None
        capture_release(claimed, MemoryError("decoder ran out of memory"))

    assert capture_claim(capture.id, S.RECEIVED) is None

    capture.refresh_from_db()
    assert capture.status == S.FAILED
    assert capture.failed_from == S.RECEIVED
    assert "inspect step was tried 3 times" in capture.reason
    assert "MemoryError: decoder ran out of memory" in capture.reason

    assert capture_step_retry(capture_id=capture.id) == "inspect"
    capture.refresh_from_db()
    assert (capture.status, capture.step_attempts, capture.reason) == (S.RECEIVED, 0, "")
    assert capture_claim(capture.id, S.RECEIVED) is not None


def test_a_step_killed_every_time_fails_too_saying_so(tmp_path: Path, settings) -> None:
    settings.HUB_STEP_MAX_ATTEMPTS = 2
    settings.HUB_STEP_LEASE_SECONDS = 1
    capture = received_capture(tmp_path)
    for _ in range(2):
        assert capture_claim(capture.id, S.RECEIVED) is not None
        time.sleep(1.6)  # killed: the lease runs out, nothing is released

    assert capture_claim(capture.id, S.RECEIVED) is None
    capture.refresh_from_db()
    assert capture.status == S.FAILED
    assert "killed or ran out of time" in capture.reason


def test_a_wait_ends_the_try_cleanly_and_does_not_count(tmp_path: Path, settings) -> None:
    """Matching waits out an EMR that is down: that is not a failed try."""
    from datetime import timedelta

    from django.utils import timezone

    from hub.captures.states import capture_update

    settings.HUB_STEP_MAX_ATTEMPTS = 2
    capture = received_capture(tmp_path)
    for _ in range(4):
        assert capture_claim(capture.id, S.RECEIVED) is not None
        capture_update(capture.id, lease_until=timezone.now() - timedelta(seconds=1))

    assert Capture.objects.get(id=capture.id).status == S.RECEIVED
