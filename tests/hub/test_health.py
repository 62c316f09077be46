"""GET /healthz tells monitoring whether the hub can take and move captures."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client


@pytest.mark.django_db
def test_a_healthy_hub_says_so() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}


@pytest.mark.django_db
def test_an_unwritable_data_directory_is_a_503_naming_it(settings, tmp_path: Path) -> None:
    settings.HUB_DATA_DIR = tmp_path / "gone"

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["storage"].startswith("failing")
    assert response.json()["database"] == "ok"
