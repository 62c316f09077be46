"""Patient, order and encounter look-ups through the hub, against a real FHIR engine."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital
from tests.peers.fhir import FhirEngine
from tests.peers.ports import free_port

pytestmark = pytest.mark.django_db


def look_up(client: APIClient, kind: str, identifier: str):
    """POST /api/v1/patients/{search,orders,encounters}: the MRN in the body, never the URL."""
    return client.post(f"/api/v1/patients/{kind}", {"identifier": identifier}, format="json")


def test_a_wristband_mrn_finds_the_patient(
    capturer_client: APIClient, emr: FhirEngine, loaded: Hospital
) -> None:
    response = look_up(capturer_client, "search", loaded.mrns["jane"])

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
    orders = look_up(capturer_client, "orders", mrn).json()["results"]
    encounters = look_up(capturer_client, "encounters", mrn).json()["results"]

    assert {o["accession_number"] for o in orders} == {
        loaded.accessions["jane_wound"],
        loaded.accessions["jane_derm"],
    }
    assert [e["identifier"] for e in encounters] == [loaded.visits["jane_now"]]


@pytest.mark.parametrize("kind", ["search", "orders", "encounters"])
def test_an_unknown_mrn_is_patient_not_found(
    capturer_client: APIClient, emr: FhirEngine, loaded: Hospital, kind: str
) -> None:
    response = look_up(capturer_client, kind, "NOBODY")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "patient_not_found",
        "message": "no single active patient has this identifier",
        "field": "identifier",
        "retryable": False,
    }


def test_a_search_without_an_mrn_names_the_parameter(
    capturer_client: APIClient, emr: FhirEngine
) -> None:
    response = capturer_client.post("/api/v1/patients/search", {}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"], error["retryable"]) == (
        "invalid_request",
        "identifier",
        False,
    )


def test_without_an_emr_the_client_is_told_to_ask_the_user(
    capturer_client: APIClient, settings
) -> None:
    settings.HUB_FHIR_URL = None

    response = look_up(capturer_client, "search", "MRN-1")

    assert response.status_code == 501
    error = response.json()["error"]
    assert (error["code"], error["field"], error["retryable"]) == (
        "emr_not_configured",
        None,
        False,
    )
    assert "HUB_FHIR_URL" in error["message"]


@pytest.mark.parametrize("kind", ["search", "orders"])
def test_the_emr_down_is_a_retryable_503_with_retry_after(
    capturer_client: APIClient, settings, kind: str
) -> None:
    settings.HUB_FHIR_URL = f"http://127.0.0.1:{free_port()}/fhir/R4"
    settings.HUB_FHIR_MRN_SYSTEM = MRN_SYSTEM

    response = look_up(capturer_client, kind, "MRN-1")

    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["field"], error["retryable"]) == ("emr_unavailable", None, True)
    assert error["message"].startswith("the EMR does not answer")
    assert response["Retry-After"] == "30"


def test_look_ups_need_a_token(emr: FhirEngine) -> None:
    response = look_up(APIClient(), "search", "X")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_no_look_up_puts_the_identifier_in_its_url(
    capturer_client: APIClient, emr: FhirEngine, loaded: Hospital
) -> None:
    mrn = loaded.mrns["jane"]
    for kind in ("search", "orders", "encounters"):
        response = look_up(capturer_client, kind, mrn)
        assert response.status_code == 200
        assert mrn not in response.wsgi_request.get_full_path()
    assert capturer_client.get(f"/api/v1/patients?identifier={mrn}").status_code == 404
    assert capturer_client.get(f"/api/v1/patients/{mrn}/orders").status_code == 404
