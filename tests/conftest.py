"""Fixtures shared by every test package."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.accounts.tokens import token_issue
from hub.captures.models import Capture
from tests import db_flush
from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital, hospital
from tests.integration.worker import CeleryWorker
from tests.peers.fhir import FhirEngine, running_fhir_engine
from tests.peers.orthanc import OrthancPeer

db_flush.install()


def api_client_for(username: str, role: Role) -> APIClient:
    user = user_create_or_update(username=username, role=role)
    _, key = token_issue(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user  # type: ignore[attr-defined]
    client.token = key  # type: ignore[attr-defined]
    return client


@pytest.fixture(autouse=True)
def _request_rates_reset() -> None:
    """DRF's throttles count in the cache: each test starts with nothing counted."""
    cache.clear()


@pytest.fixture
def capturer_client(db: None) -> APIClient:
    return api_client_for("nurse", Role.CAPTURER)


@pytest.fixture
def operator_client(db: None) -> APIClient:
    return api_client_for("imaging-it", Role.OPERATOR)


@pytest.fixture
def private_data_dir(settings, tmp_path: Path) -> Path:
    """A data directory of the test's own, for tests that run the hub in-process."""
    settings.HUB_DATA_DIR = tmp_path / "hub-data"
    settings.FILE_UPLOAD_TEMP_DIR = settings.HUB_DATA_DIR / "tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir(parents=True)
    return settings.HUB_DATA_DIR


@pytest.fixture(scope="session")
def fhir_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirEngine]:
    """A real FHIR R4 engine (Medplum's, under Node) standing in for the EMR."""
    with running_fhir_engine(tmp_path_factory.mktemp("fhir")) as engine:
        yield engine


@pytest.fixture(scope="module")
def loaded(fhir_engine: FhirEngine) -> Hospital:
    """A small hospital (patients, orders, encounters) loaded into the EMR, per module."""
    fixtures = hospital()
    fhir_engine.load(fixtures.bundle)
    return fixtures


@pytest.fixture
def emr(settings, fhir_engine: FhirEngine) -> FhirEngine:
    """The hub pointed at the test EMR, for code run in-process."""
    settings.HUB_FHIR_URL = fhir_engine.base_url
    settings.HUB_FHIR_MRN_SYSTEM = MRN_SYSTEM
    settings.HUB_FHIR_TOKEN = settings.HUB_FHIR_USERNAME = None
    return fhir_engine


# The real stack, one per test run: Orthanc with DICOMweb, a Celery worker on the
# run's own queues, the real database and broker. Every package's tests share it.


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
