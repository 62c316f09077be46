"""The real stack: Orthanc with DICOMweb, a Celery worker, the real database and broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from hub.captures.models import Capture
from tests.integration.worker import CeleryWorker
from tests.peers.orthanc import OrthancPeer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancPeer]:
    peer = OrthancPeer(tmp_path_factory.mktemp("orthanc"))
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    django_db_blocker: object,
    orthanc: OrthancPeer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CeleryWorker]:
    env = {
        "HUB_STOWRS_URL": orthanc.dicomweb_url,
        "HUB_STOWRS_USERNAME": orthanc.username,
        "HUB_STOWRS_PASSWORD": orthanc.password,
        "HUB_STOWRS_TIMEOUT": "10",
        "HUB_ARCHIVE_ORTHANC_URL": orthanc.url,
    }
    worker = CeleryWorker(tmp_path_factory.mktemp("celery") / "worker.log", env)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def hub_stack(
    celery_worker: CeleryWorker, orthanc: OrthancPeer, transactional_db: None
) -> Iterator[OrthancPeer]:
    """The running stack; the archive is settings' too, for code run in-process."""
    old = settings.HUB_STOWRS_URL, settings.HUB_STOWRS_USERNAME, settings.HUB_STOWRS_PASSWORD
    settings.HUB_STOWRS_URL = orthanc.dicomweb_url
    settings.HUB_STOWRS_USERNAME, settings.HUB_STOWRS_PASSWORD = orthanc.username, orthanc.password
    try:
        yield orthanc
    finally:
        settings.HUB_STOWRS_URL, settings.HUB_STOWRS_USERNAME, settings.HUB_STOWRS_PASSWORD = old


@pytest.fixture
def wait_for_status(celery_worker: CeleryWorker) -> Callable[..., Capture]:
    def wait(capture_id: str, *statuses: str, timeout: float = 60) -> Capture:
        deadline = time.monotonic() + timeout
        capture = Capture.objects.get(id=capture_id)
        while time.monotonic() < deadline:
            capture = Capture.objects.get(id=capture_id)
            if capture.status in statuses:
                return capture
            time.sleep(0.2)
        raise AssertionError(
            f"capture stayed {capture.status!r} ({capture.reason}), wanted {statuses}; "
            f"worker log:\n{celery_worker.log_tail()}"
        )

    return wait
