"""Patient, order and encounter look-ups through the hub, against a real FHIR engine."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital
from tests.peers.fhir import FhirEngine
from tests.peers.ports import free_port

pytestmark = pytest.mark.django_db


def test_a_wristband_mrn_finds_the_patient(
    capturer_client: APIClient, emr: FhirEngine, loaded: Hospital
) -> None:
    response = capturer_client.get("/api/v1/patients", {"identifier": loaded.mrns["jane"]})

    assert response.status_code == 200
    body = response.json()
    assert body["lookup"] == "fhir"
    (jane,) = body["results"]
    assert jane["name"] == "Doe^Jane^Q"
    assert jane["birth_date"] == "1970-01-02"
    assert jane["identifier"] == loaded.mrns["jane"]


def test_open_orders_and_current_encounters(
    capturer_client: APIClient, emr: FhirEngine, loaded: Hospital
) -> None:
    mrn = loaded.mrns["jane"]
    orders = capturer_client.get(f"/api/v1/patients/{mrn}/orders").json()["results"]
    encounters = capturer_client.get(f"/api/v1/patients/{mrn}/encounters").json()["results"]

    assert {o["accession_number"] for o in orders} == {
        loaded.accessions["jane_wound"],
        loaded.accessions["jane_derm"],
    }
    assert [e["identifier"] for e in encounters] == [loaded.visits["jane_now"]]


def test_an_unknown_mrn(capturer_client: APIClient, emr: FhirEngine) -> None:
    assert capturer_client.get("/api/v1/patients", {"identifier": "NOBODY"}).json()["results"] == []
    assert capturer_client.get("/api/v1/patients/NOBODY/orders").status_code == 404


def test_without_an_emr_the_client_is_told_to_ask_the_user(
    capturer_client: APIClient, settings
) -> None:
    settings.HUB_FHIR_URL = None

    body = capturer_client.get("/api/v1/patients", {"identifier": "MRN-1"}).json()

    assert body["lookup"] == "none"
    assert body["results"] == []


def test_the_emr_down_is_a_503_with_a_reason(capturer_client: APIClient, settings) -> None:
    settings.HUB_FHIR_URL = f"http://127.0.0.1:{free_port()}/fhir/R4"
    settings.HUB_FHIR_MRN_SYSTEM = MRN_SYSTEM

    response = capturer_client.get("/api/v1/patients", {"identifier": "MRN-1"})

    assert response.status_code == 503
    assert "the EMR does not answer" in response.json()["detail"]


def test_look_ups_need_a_token(emr: FhirEngine) -> None:
    assert APIClient().get("/api/v1/patients", {"identifier": "X"}).status_code == 401
