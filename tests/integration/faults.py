"""Helpers of the fault tests: a worker on a broker of the test's own, and waiting."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
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


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (a Celery worker and its pool)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        one = todo.pop()
        tree.append(one)
        todo.extend(children.get(one, []))
    return tree


def kill_worker(worker: CeleryWorker) -> None:
    """SIGKILL a worker and its pool at once: nothing is acknowledged or released."""
    assert worker.process is not None
    for pid in process_tree(worker.process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=30)


def instances_in_study(orthanc: OrthancPeer, study_instance_uid: str) -> int:
    response = requests.post(
        f"{orthanc.url}/tools/find",
        json={"Level": "Instance", "Query": {"StudyInstanceUID": study_instance_uid}},
        auth=(orthanc.username, orthanc.password),
        timeout=10,
    )
    response.raise_for_status()
    return len(response.json())


@pytest.fixture
def suite_worker_paused(celery_worker: CeleryWorker) -> Iterator[None]:
    """The suite's own worker (tests/conftest.py) shares the database: its sweep
    would take up a fault test's captures. SIGSTOP it for the test, so that only
    the test's own workers do the work; SIGCONT it after."""
    assert celery_worker.process is not None
    pids = process_tree(celery_worker.process.pid)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
