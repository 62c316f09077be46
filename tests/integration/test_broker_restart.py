"""A broker restart with work in flight: the worker lives on and finishes the work.

The broker is a redis-server of the test's own; the worker is a real Celery
worker on it; the archive is the real Orthanc behind a relay that holds each
connection for a while, so that the worker is in the middle of a delivery -
holding its message unacknowledged - when Redis goes away. The worker also
holds a message for later (a countdown, as an older hub sent its retries):
with kombu's own Redis transport that alone ends the worker on a restart.
Last, a delivery finishes while Redis is away, so that its acknowledgement
waits for the reconnection (hub/pipeline/broker.py says why that ended the
worker too).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.models import Capture
from hub.delivery.models import Delivery
from hub.delivery.services import OPEN
from hub.pipeline.tasks import inspect_capture, notify_emr
from tests.hub.factories import received_capture
from tests.integration.faults import (
    all_archived,
    enqueue,
    started_worker,
    statuses,
    suite_worker_paused,
    wait_until,
    worker_env,
)
from tests.integration.worker import CeleryWorker
from tests.peers.orthanc import OrthancPeer
from tests.peers.redis import RedisPeer
from tests.peers.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("suite_worker_paused"),
]

__all__ = ["suite_worker_paused"]  # the fixture, imported for this module's tests


def _alive(worker: CeleryWorker) -> bool:
    return worker.process is not None and worker.process.poll() is None


def _delivery_under_way(capture_ids: list[str]) -> bool:
    """A delivery of one of the captures holds its lease: its message is unacknowledged."""
    return Delivery.objects.filter(
        capture_id__in=capture_ids, status__in=OPEN, lease_until__gt=timezone.now()
    ).exists()


def test_a_worker_holding_unacknowledged_work_survives_redis_restarts_and_finishes_it(
    orthanc: OrthancPeer, tmp_path: Path
) -> None:
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    slow_archive = TcpProxy(orthanc.http_port, delay=6.0)
    slow_archive.start()
    env = worker_env(redis.url, f"http://127.0.0.1:{slow_archive.port}/dicom-web", orthanc)
    worker = started_worker(tmp_path / "worker.log", env)
    try:
        captures = [received_capture(tmp_path / f"c{i}", patient_id=f"BR-{i}") for i in range(3)]
        ids = [str(capture.id) for capture in captures]

        # 1. Idle but for a message held for later: stock kombu dies on this one.
        enqueue(redis.url, notify_emr, ids[0], countdown=300)
        wait_until(
            lambda: "notify_emr" in worker.log_path.read_text(),
            timeout=30,
            what="the worker holds the countdown message",
            log=worker.log_tail(),
        )
        redis.restart(down_for=2.0)
        wait_until(
            lambda: worker.log_path.read_text().count("Connected to") >= 2 or not _alive(worker),
            timeout=60,
            what="the worker reconnects",
            log=worker.log_tail(),
        )
        assert _alive(worker), worker.log_tail()

        # 2. Deliveries under way: their `deliver` messages are unacknowledged (acks_late).
        for capture_id in ids:
            enqueue(redis.url, inspect_capture, capture_id)
        wait_until(
            lambda: _delivery_under_way(ids),
            timeout=60,
            what="a delivery under way",
            log=worker.log_tail(),
        )
        redis.restart(down_for=2.0)
        slow_archive.delay = 0.0

        wait_until(
            lambda: all_archived(ids),
            timeout=120,
            what=f"every capture archived (now {statuses(ids)})",
            log=worker.log_tail(),
        )
        # 3. A delivery that finishes while Redis is away: its message is
        # acknowledged after the reconnection, on the channel it came from.
        slow_archive.delay = 2.0
        # Made only now: the sweep would have started a capture left waiting.
        last = str(received_capture(tmp_path / "c3", patient_id="BR-3").id)
        enqueue(redis.url, inspect_capture, last)
        wait_until(
            lambda: _delivery_under_way([last]),
            timeout=60,
            what="the last delivery under way",
            log=worker.log_tail(),
        )
        redis.restart(down_for=6.0)
        assert all_archived([last]), statuses([last])  # done while the broker was away
        wait_until(
            lambda: worker.log_path.read_text().count("Connected to") >= 4 or not _alive(worker),
            timeout=60,
            what="the worker reconnects a third time",
            log=worker.log_tail(),
        )
        # The acknowledgement goes with the reconnected consumer's first turns (within
        # a second in bench/chaos.py): time for it to end the worker, if it would.
        time.sleep(4)

        log = worker.log_path.read_text()
        assert _alive(worker), worker.log_tail()
        assert log.count("Connection to broker lost") >= 3  # every restart reached the worker
        assert "Unrecoverable error" not in log
        for capture in Capture.objects.filter(id__in=ids):
            # This worker, not another one sharing the database, delivered it...
            assert f"capture {capture.id} delivered to archive" in log
            # ...and the archive holds it.
            assert orthanc.find_instance(capture.sop_instance_uid) is not None
    finally:
        worker.stop()
        slow_archive.stop()
        redis.stop()
