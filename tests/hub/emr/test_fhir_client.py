"""The hub's FHIR client against a real FHIR R4 engine (Medplum) on loopback.

No mocks: the engine is started once per module, guarded by a bearer token,
and loaded with the fixture hospital built in `fhir_fixtures`. None of this
touches the database.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.media import Media
from pytest_django.fixtures import Settings

from hub.emr.auth import BasicAuth, BearerAuth
from hub.emr.client import (
    FhirClient,
    FhirError,
    FhirUnavailable,
)
from hub.emr.factory import fhir_client_from_settings
from tests.hub.matching import fhir_fixtures
from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital
from tests.peers.fhir import FhirEngine, running_fhir_engine

TOKEN = "token-" + uuid.uuid4().hex
IMAGING = "|".join(fhir_fixtures.IMAGING)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirEngine]:
    with running_fhir_engine(tmp_path_factory.mktemp("fhir"), token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def hospital(engine: FhirEngine) -> Hospital:
    world = fhir_fixtures.hospital()
    engine.load(world.bundle)
    return world


@pytest.fixture
def client(engine: FhirEngine) -> Iterator[FhirClient]:
    with FhirClient(engine.base_url, auth=BearerAuth(TOKEN), retries=1, backoff=0.01) as fhir:
        yield fhir


def jane_id(client: FhirClient, hospital: Hospital) -> str:
    (jane,) = client.find_patients(MRN_SYSTEM, hospital.mrns["jane"])
    return jane.id


# Patients


def test_patient_is_found_by_mrn(client: FhirClient, hospital: Hospital) -> None:
    (jane,) = client.find_patients(MRN_SYSTEM, hospital.mrns["jane"])

    assert jane.name == "Doe^Jane^Q"
    assert jane.birth_date == datetime.date(1970, 1, 2)
    assert jane.sex == "F"
    assert jane.active is True
    assert (MRN_SYSTEM, hospital.mrns["jane"]) in {(i.system, i.value) for i in jane.identifiers}


def test_unknown_mrn_finds_nobody(client: FhirClient, hospital: Hospital) -> None:
    assert client.find_patients(MRN_SYSTEM, "MRN-NOBODY") == []
    # The same value in another system is another identifier.
    assert client.find_patients("urn:oid:9.9.9", hospital.mrns["jane"]) == []


def test_mrn_with_search_delimiters_is_escaped(client: FhirClient, engine: FhirEngine) -> None:
    # A comma separates alternatives in a search value unless escaped as
    # "\," (R4 search.html#escaping). Medplum 4.5 cannot match an escaped "|".
    mrn = f"X{uuid.uuid4().hex[:6]},1"
    engine.load(
        [
            fhir_fixtures.patient(
                mrn=mrn, family="Odd", given=["Ann"], birth_date="1990", gender="unknown"
            )
        ]
    )

    (odd,) = client.find_patients(MRN_SYSTEM, mrn)

    assert odd.name == "Odd^Ann"
    assert odd.birth_date is None  # partial date: DICOM DA cannot hold it
    assert odd.sex == ""


# Orders


def test_active_orders_leave_completed_ones_out(client: FhirClient, hospital: Hospital) -> None:
    orders = client.active_orders(jane_id(client, hospital))

    assert {o.accession_number for o in orders} == {
        hospital.accessions["jane_wound"],
        hospital.accessions["jane_derm"],
    }
    assert {o.status for o in orders} == {"active"}


def test_active_orders_narrow_by_category(client: FhirClient, hospital: Hospital) -> None:
    patient_id = jane_id(client, hospital)

    assert len(client.active_orders(patient_id, category=IMAGING)) == 2
    assert client.active_orders(patient_id, category="http://snomed.info/sct|108252007") == []


def test_order_carries_accession_and_study_uid(client: FhirClient, hospital: Hospital) -> None:
    orders = {o.accession_number: o for o in client.active_orders(jane_id(client, hospital))}
    wound = orders[hospital.accessions["jane_wound"]]
    derm = orders[hospital.accessions["jane_derm"]]

    assert wound.accession_issuer == fhir_fixtures.ACCESSION_ISSUER
    assert wound.study_instance_uid == hospital.study_uids["jane_wound"]
    assert wound.code_text == "Wound photography, left heel"
    assert wound.authored_on == "2024-05-01T09:30:00+02:00"
    assert wound.requester == "Dr. Ada Wound"
    assert wound.patient_reference == f"Patient/{jane_id(client, hospital)}"
    assert derm.study_instance_uid is None
    assert client.get_order(wound.id) == wound


def test_unknown_order_is_a_permanent_error(client: FhirClient, hospital: Hospital) -> None:
    with pytest.raises(FhirError) as caught:
        client.get_order(str(uuid.uuid4()))

    assert "404" in caught.value.reason
    assert "/fhir/R4/ServiceRequest/" in caught.value.reason
    assert "Not found" in caught.value.reason  # the OperationOutcome's text
    assert caught.value.transient is False


def test_malformed_id_never_reaches_the_server(client: FhirClient) -> None:
    with pytest.raises(FhirError, match="not a FHIR resource id"):
        client.get_order("../Patient/1")


# Encounters


def test_in_progress_encounter_is_found(client: FhirClient, hospital: Hospital) -> None:
    (now,) = client.in_progress_encounters(jane_id(client, hospital))

    assert now.identifier_value == hospital.visits["jane_now"]
    assert now.identifier_system == fhir_fixtures.VISIT_SYSTEM
    assert now.encounter_class == "IMP"
    assert now.period_start == "2024-05-01T08:00:00+02:00"
    assert client.get_encounter(now.id) == now


def test_search_follows_next_links(client: FhirClient, engine: FhirEngine) -> None:
    mrn = f"MRN-PAGED-{uuid.uuid4().hex[:6]}"
    (patient_ref,) = engine.load(
        [
            fhir_fixtures.patient(
                mrn=mrn, family="Long", given=["Stay"], birth_date="1940-02-02", gender="male"
            )
        ]
    )
    # More than one page of Medplum's default 20.
    visits = [
        fhir_fixtures.encounter(
            subject=patient_ref,
            status="in-progress",
            visit=f"V{n}",
            class_code="IMP",
            start="2024-01-01",
        )
        for n in range(25)
    ]
    engine.load(visits)
    patient_id = patient_ref.split("/")[1]

    paged = FhirClient(engine.base_url, auth=BearerAuth(TOKEN), page_size=10)
    assert len({e.id for e in paged.in_progress_encounters(patient_id)}) == 25
    short = FhirClient(engine.base_url, auth=BearerAuth(TOKEN), page_size=10, max_pages=2)
    with pytest.raises(FhirError, match="more than 2 pages"):
        short.in_progress_encounters(patient_id)


# Validation


def test_invalid_resource_from_the_server_is_an_error(
    client: FhirClient, engine: FhirEngine
) -> None:
    # Medplum stores what it is given; the hub must not trust it.
    mrn = f"MRN-BAD-{uuid.uuid4().hex[:6]}"
    engine.load(
        [
            {
                "resourceType": "Patient",
                "identifier": [{"system": MRN_SYSTEM, "value": mrn}],
                "shoeSize": 44,
            }
        ]
    )

    with pytest.raises(FhirError, match="shoeSize"):
        client.find_patients(MRN_SYSTEM, mrn)


def test_invalid_resource_is_refused_before_sending(client: FhirClient) -> None:
    with pytest.raises(FhirError, match="invalid Media"):
        client.create({"resourceType": "Media", "status": "completed"})  # content is required


# Write-back


def test_create_returns_the_new_id(
    client: FhirClient, engine: FhirEngine, hospital: Hospital
) -> None:
    patient_id = jane_id(client, hospital)
    media = Media.model_validate(
        {
            "resourceType": "Media",
            "status": "completed",
            "subject": {"reference": f"Patient/{patient_id}"},
            "content": {"contentType": "image/jpeg", "url": "urn:oid:2.25.1", "title": "wound"},
        }
    )

    media_id = client.create(media)

    stored = engine.read(f"Media/{media_id}")
    assert stored["subject"]["reference"] == f"Patient/{patient_id}"
    assert stored["content"]["contentType"] == "image/jpeg"


def test_transaction_links_entries_and_returns_references(
    client: FhirClient, engine: FhirEngine, hospital: Hospital
) -> None:
    patient_id = jane_id(client, hospital)
    study_uid = f"2.25.{uuid.uuid4().int}"
    study_url = f"urn:uuid:{uuid.uuid4()}"
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": study_url,
                    "resource": {
                        "resourceType": "ImagingStudy",
                        "status": "available",
                        "identifier": [
                            {"system": "urn:dicom:uid", "value": f"urn:oid:{study_uid}"}
                        ],
                        "subject": {"reference": f"Patient/{patient_id}"},
                    },
                    "request": {"method": "POST", "url": "ImagingStudy"},
                },
                {
                    "resource": {
                        "resourceType": "DocumentReference",
                        "status": "current",
                        "subject": {"reference": f"Patient/{patient_id}"},
                        "content": [
                            {"attachment": {"contentType": "image/jpeg", "url": "urn:oid:2.25.2"}}
                        ],
                        "context": {"related": [{"reference": study_url}]},
                    },
                    "request": {"method": "POST", "url": "DocumentReference"},
                },
            ],
        }
    )

    study_ref, document_ref = client.transaction(bundle)

    assert study_ref.startswith("ImagingStudy/")
    assert document_ref.startswith("DocumentReference/")
    document = engine.read(document_ref)
    assert document["context"]["related"][0]["reference"] == study_ref


def test_transaction_needs_a_transaction_bundle(client: FhirClient) -> None:
    with pytest.raises(FhirError, match="type transaction"):
        client.transaction({"resourceType": "Bundle", "type": "collection"})


# Authentication


def test_wrong_token_is_refused_with_401(engine: FhirEngine, hospital: Hospital) -> None:
    wrong = FhirClient(engine.base_url, auth=BearerAuth("not-" + TOKEN), retries=0)
    anonymous = FhirClient(engine.base_url, retries=0)

    for client in (wrong, anonymous):
        with pytest.raises(FhirError, match="401") as caught:
            client.find_patients(MRN_SYSTEM, hospital.mrns["jane"])
        assert TOKEN not in caught.value.reason
        assert hospital.mrns["jane"] not in caught.value.reason  # query values are hidden


def test_basic_auth_is_sent(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_fhir_engine(
        tmp_path_factory.mktemp("fhir-basic"), basic=("hub", "s3cret")
    ) as basic:
        references = basic.load(
            [
                fhir_fixtures.patient(
                    mrn="MRN-B", family="B", given=["C"], birth_date="2000-01-01", gender="other"
                )
            ]
        )
        good = FhirClient(basic.base_url, auth=BasicAuth("hub", "s3cret"))
        bad = FhirClient(basic.base_url, auth=BasicAuth("hub", "guess"), retries=0)

        (found,) = good.find_patients(MRN_SYSTEM, "MRN-B")
        assert f"Patient/{found.id}" == references[0]
        assert found.sex == "O"
        with pytest.raises(FhirError, match="401"):
            bad.find_patients(MRN_SYSTEM, "MRN-B")


# Availability


def test_stopped_engine_is_unavailable_after_bounded_retries(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with running_fhir_engine(tmp_path_factory.mktemp("fhir-gone")) as gone:
        client = FhirClient(gone.base_url, retries=2, backoff=0.01, timeout=(1, 2))
        assert client.find_patients(MRN_SYSTEM, "MRN-X") == []
    # The block stopped the engine: its port now refuses connections.

    started = time.monotonic()
    with pytest.raises(FhirUnavailable) as caught:
        client.find_patients(MRN_SYSTEM, "MRN-SECRET")
    assert time.monotonic() - started < 2
    assert caught.value.transient is True
    assert "after 3 attempts" in caught.value.reason
    assert "MRN-SECRET" not in caught.value.reason

    # A refused connection never reached the server, so even a create is retried.
    with pytest.raises(FhirUnavailable, match="after 3 attempts"):
        client.create({"resourceType": "Patient", "gender": "male"})


def test_server_error_is_retried(
    client: FhirClient, engine: FhirEngine, hospital: Hospital
) -> None:
    engine.fail_next(1, status=503)

    assert len(client.find_patients(MRN_SYSTEM, hospital.mrns["jane"])) == 1


def test_lasting_server_error_is_unavailable(
    client: FhirClient, engine: FhirEngine, hospital: Hospital
) -> None:
    engine.fail_next(2, status=502)

    with pytest.raises(FhirUnavailable) as caught:
        client.find_patients(MRN_SYSTEM, hospital.mrns["jane"])
    assert "502: injected fault (after 2 attempts)" in caught.value.reason


def test_create_is_not_repeated_after_a_server_error(
    client: FhirClient, engine: FhirEngine
) -> None:
    # The server may have stored it before failing: a second POST could duplicate it.
    engine.fail_next(2, status=500)

    with pytest.raises(FhirUnavailable, match="after 1 attempts"):
        client.create({"resourceType": "Patient", "gender": "male"})
    with pytest.raises(FhirUnavailable, match="500"):  # the second fault was still waiting
        client.create({"resourceType": "Patient", "gender": "male"})


def test_too_many_requests_is_retried_even_for_a_create(
    engine: FhirEngine, hospital: Hospital
) -> None:
    client = FhirClient(
        engine.base_url, auth=BearerAuth(TOKEN), retries=1, backoff=0.01, max_backoff=0.3
    )
    engine.fail_next(1, status=429, retry_after=5)

    started = time.monotonic()
    assert client.create({"resourceType": "Patient", "gender": "female"})
    # Retry-After is honoured up to max_backoff, no longer.
    assert 0.3 <= time.monotonic() - started < 3


def test_credentials_in_the_url_stay_out_of_reasons(engine: FhirEngine) -> None:
    url = engine.base_url.replace("http://", "http://hub:pa55word@")
    client = FhirClient(url, retries=0)

    with pytest.raises(FhirError) as caught:
        client.get_order(str(uuid.uuid4()))
    assert "pa55word" not in caught.value.reason


# Settings


def test_client_from_settings(settings: Settings, engine: FhirEngine, hospital: Hospital) -> None:
    settings.HUB_FHIR_URL = engine.base_url
    settings.HUB_FHIR_TOKEN = TOKEN
    settings.HUB_FHIR_USERNAME = None
    settings.HUB_FHIR_SMART_CLIENT_ID = None
    settings.HUB_FHIR_TIMEOUT = 10.0

    client = fhir_client_from_settings()

    assert client is not None
    assert client.timeout == (5.0, 10.0)
    assert len(client.find_patients(MRN_SYSTEM, hospital.mrns["john"])) == 1


def test_client_from_settings_without_url_is_none(settings: Settings) -> None:
    settings.HUB_FHIR_URL = ""
    assert fhir_client_from_settings() is None


def test_incomplete_smart_settings_are_refused_not_ignored(settings: Settings) -> None:
    settings.HUB_FHIR_URL = "https://emr.example/fhir/R4"
    settings.HUB_FHIR_SMART_CLIENT_ID = "hub"  # without token URL, key and key id
    with pytest.raises(ImproperlyConfigured, match="SMART"):
        fhir_client_from_settings()
