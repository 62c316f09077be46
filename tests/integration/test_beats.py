"""Two beats on one database and one broker, on the real stack: each due piece
of work is sent once and done once.

A site may run beat twice (two machines, or a restarted one that overlaps its
predecessor). Here two `celery beat` processes send the sweep every half
second to one worker (two processes, so two sweeps also run at once), against
a Redis of the test's own and the test's database. The captures are due from
the start (quiet for longer than HUB_RESUME_INTERVAL_SECONDS) and nothing else
sends them, so every message for them is a sweep's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.models import Capture
from hub.delivery.models import Delivery, DeliveryStatus
from tests.hub.factories import received_capture
from tests.integration import worker as worker_process
from tests.integration.faults import (
    all_archived,
    instances_in_study,
    statuses,
    suite_worker_paused,
    wait_until,
    worker_env,
)
from tests.integration.worker import ROOT, CeleryWorker
from tests.peers.orthanc import OrthancPeer
from tests.peers.process import stop_process
from tests.peers.redis import RedisPeer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("suite_worker_paused"),
]

__all__ = ["suite_worker_paused"]  # the fixture, imported for this module's tests

CAPTURES = 8
SWEEPS_SENT = "Sending due task resume-stalled-captures"


def _received(task: str) -> re.Pattern[str]:
    """The worker's log line for each message of `task` it took."""
    return re.compile(rf"Task hub\.pipeline\.tasks\.{task}\[[^\]]+\] received")


INSPECT_RECEIVED = _received("inspect_capture")
SWEEP_RECEIVED = _received("resume_stalled_captures")


def _beat(log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "hub", "beat", "--loglevel=INFO"),
                *("--schedule", str(log_path.with_suffix(".schedule"))),
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": worker_process.test_database_url(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def test_two_beats_sweeping_one_database_send_each_due_capture_once_and_archive_it_once(
    orthanc: OrthancPeer, tmp_path: Path
) -> None:
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    env = worker_env(
        redis.url,
        orthanc.dicomweb_url,
        orthanc,
        HUB_SWEEP_INTERVAL_SECONDS="0.5",
        HUB_RESUME_INTERVAL_SECONDS="600",
        HUB_STEP_LEASE_SECONDS="60",
    )
    worker = CeleryWorker(tmp_path / "worker.log", env, beat=False)
    beats: list[subprocess.Popen[bytes]] = []
    beat_logs = [tmp_path / "beat-a.log", tmp_path / "beat-b.log"]
    try:
        ids = [
            str(received_capture(tmp_path / f"c{n}", patient_id=f"BEAT-{n}").id)
            for n in range(CAPTURES)
        ]
        # Quiet for longer than the resume interval: due for both sweeps at once.
        Capture.objects.filter(id__in=ids).update(updated_at=timezone.now() - timedelta(hours=1))
        # The beats first: their sweeps wait in the queue, and the worker's two
        # processes take two of them at once when it starts.
        beats = [_beat(log, env) for log in beat_logs]
        wait_until(
            lambda: all(log.read_text().count(SWEEPS_SENT) >= 2 for log in beat_logs),
            timeout=60,
            what="both beats sending sweeps",
            log="\n".join(log.read_text()[-2000:] for log in beat_logs),
        )
        worker.start()

        wait_until(
            lambda: all_archived(ids),
            timeout=180,
            what=f"all {CAPTURES} archived (now {statuses(ids)})",
            log=worker.log_tail(30),
        )
        assert all(beat.poll() is None for beat in beats)
        worker_log = worker.log_path.read_text()
        # Each capture's first step was sent once, by one sweep, for both beats' sweeps.
        assert len(INSPECT_RECEIVED.findall(worker_log)) == CAPTURES
        assert len(SWEEP_RECEIVED.findall(worker_log)) >= 8
        deliveries = Delivery.objects.filter(capture_id__in=ids)
        assert deliveries.count() == CAPTURES
        assert set(deliveries.values_list("status", "attempts")) == {(DeliveryStatus.DELIVERED, 1)}
        for capture in Capture.objects.filter(id__in=ids):
            assert instances_in_study(orthanc, capture.study_instance_uid) == 1
    finally:
        for beat in beats:
            stop_process(beat, timeout=20)
        worker.stop()
        redis.stop()
