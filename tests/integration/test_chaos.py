"""A small chaos run, against the real stack: 30 photos, two Celery workers on a
Redis of the test's own, the real Orthanc behind a relay. Faults in turn: one
worker SIGKILLed mid-delivery (and started again, as `make run` would), the
broker restarted, the archive refusing every connection for 20 s. Every photo
must end archived, once, none stuck. (`bench/chaos.py` is the full run.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.models import Capture
from hub.delivery.models import Delivery, DeliveryStatus
from hub.delivery.services import OPEN
from hub.pipeline.tasks import inspect_capture
from tests.hub.factories import received_capture
from tests.integration.faults import (
    all_archived,
    enqueue,
    instances_in_study,
    kill_worker,
    started_worker,
    statuses,
    suite_worker_paused,
    wait_until,
    worker_env,
)
from tests.peers.orthanc import OrthancPeer
from tests.peers.redis import RedisPeer
from tests.peers.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("suite_worker_paused"),
]

__all__ = ["suite_worker_paused"]  # the fixture, imported for this module's tests

PHOTOS = 30
OUTAGE_SECONDS = 20.0


def test_thirty_photos_through_a_worker_kill_a_broker_restart_and_an_archive_outage(
    orthanc: OrthancPeer, tmp_path: Path
) -> None:
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    archive = TcpProxy(orthanc.http_port, delay=1.0)  # slow enough to be caught mid-send
    archive.start()
    env = worker_env(redis.url, f"http://127.0.0.1:{archive.port}/dicom-web", orthanc)
    workers = [started_worker(tmp_path / f"worker-{n}.log", env) for n in ("a", "b")]
    try:
        ids = [
            str(received_capture(tmp_path / f"p{i}", patient_id=f"CH-{i:02}").id)
            for i in range(PHOTOS)
        ]
        for capture_id in ids:
            enqueue(redis.url, inspect_capture, capture_id)

        # 1. A worker dies mid-delivery, and is started again.
        wait_until(
            lambda: (
                Delivery.objects.filter(
                    capture_id__in=ids, status__in=OPEN, lease_until__gt=timezone.now()
                ).count()
                >= 2
            ),
            timeout=90,
            what="deliveries under way",
            log=workers[0].log_tail(),
        )
        kill_worker(workers[0])
        workers[0] = started_worker(tmp_path / "worker-a2.log", env)

        # 2. The broker restarts.
        redis.restart(down_for=2.0)

        # 3. The archive refuses every connection for a while.
        archive.delay = 0.0
        archive.refusing = True
        time.sleep(OUTAGE_SECONDS)
        archive.refusing = False
        last_fault = time.monotonic()

        wait_until(
            lambda: all_archived(ids),
            timeout=180,
            what=f"all {PHOTOS} archived (now {statuses(ids)})",
            log="\n".join(w.log_tail(30) for w in workers),
        )
        recovery = time.monotonic() - last_fault
        print(f"chaos: {PHOTOS} archived {recovery:.1f} s after the last fault")

        assert all(w.process is not None and w.process.poll() is None for w in workers)
        deliveries = Delivery.objects.filter(capture_id__in=ids)
        assert deliveries.count() == PHOTOS  # one per photo: nothing opened twice
        assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
        for capture in Capture.objects.filter(id__in=ids):
            # In the archive once: no second copy under another UID, none missing.
            assert instances_in_study(orthanc, capture.study_instance_uid) == 1
            assert orthanc.find_instance(capture.sop_instance_uid) is not None
    finally:
        for worker in workers:
            worker.stop()
        archive.stop()
        redis.stop()
