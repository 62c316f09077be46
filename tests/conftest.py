"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from tests.peers.fhir import FhirEngine, running_fhir_engine


def api_client_for(username: str, role: Role) -> APIClient:
    user = user_create_or_update(username=username, role=role)
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user  # type: ignore[attr-defined]
    return client


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
