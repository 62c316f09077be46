"""Helpers of the fault tests: a worker on a broker of the test's own, and waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kombu import Connection

from hub.captures.models import Capture, CaptureStatus
from tests.integration.worker import CeleryWorker
from tests.peers.orthanc import OrthancPeer


def worker_env(
    broker_url: str, archive_url: str, orthanc: OrthancPeer, **extra: str
) -> dict[str, str]:
    """A worker sending to `archive_url`, sweeping every second, with short leases."""
    return {
        "CELERY_BROKER_URL": broker_url,
        "HUB_STOWRS_URL": archive_url,
        "HUB_STOWRS_USERNAME": orthanc.username,
        "HUB_STOWRS_PASSWORD": orthanc.password,
        "HUB_STOWRS_TIMEOUT": "30",
        "HUB_ARCHIVE_ORTHANC_URL": "",
        "HUB_SWEEP_INTERVAL_SECONDS": "1",
        "HUB_RESUME_INTERVAL_SECONDS": "5",
        "HUB_STEP_LEASE_SECONDS": "6",
        **extra,
    }


def enqueue(broker_url: str, task: Any, *args: Any, countdown: float | None = None) -> None:
    """Sends a task to the test's own broker (the test process's app uses another)."""
    with Connection(broker_url, transport="hub.pipeline.broker:Transport") as connection:
        task.apply_async(args, connection=connection, countdown=countdown)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, log: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}\n{log}")


def statuses(capture_ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Capture.objects.filter(id__in=capture_ids).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_archived(capture_ids: list[str]) -> bool:
    return statuses(capture_ids) == {CaptureStatus.ARCHIVED: len(capture_ids)}


def started_worker(log_path: Path, env: dict[str, str]) -> CeleryWorker:
    worker = CeleryWorker(log_path, env)
    worker.start()
    return worker
