"""The match step against a real FHIR engine loaded with a small hospital."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.audit.models import AuditEvent
from hub.captures.models import Capture, CaptureStatus
from hub.matching.services import capture_match
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import (
    MRN_SYSTEM,
    Hospital,
    imaging_order,
    patient,
    transaction,
)
from tests.peers.fhir import FhirEngine
from tests.peers.ports import free_port

pytestmark = pytest.mark.django_db


def jane(loaded: Hospital, **extra: object) -> dict:
    return {
        "patient": {"id": loaded.mrns["jane"], "name": "DOE^JANE", "issuer": "HOSP"},
        "specialty": "wound",
        **extra,
    }


def matched(tmp_path: Path, context: dict) -> Capture:
    capture = received_capture(tmp_path, context=context, inspected=True)
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    return capture


def test_an_order_named_by_accession_fills_patient_order_and_study(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital
) -> None:
    context = jane(loaded, order={"accession_number": loaded.accessions["jane_wound"]})

    capture = matched(tmp_path, context)

    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["patient"]["name"] == "Doe^Jane^Q"
    assert capture.context["patient"]["birth_date"] == "1970-01-02"
    assert capture.context["patient"]["sex"] == "F"
    assert capture.context["order"]["service_request"].startswith("ServiceRequest/")
    assert capture.study_instance_uid == loaded.study_uids["jane_wound"]
    event = AuditEvent.objects.get(capture=capture, action="matched")
    assert (event.patient, event.actor_id) == (loaded.mrns["jane"], None)
    assert event.note == (
        f"matched by the EMR, order {loaded.accessions['jane_wound']}; "
        "context filled from the look-up"
    )
    assert event.after["references"]["patient"].startswith("Patient/")


def test_every_capture_for_one_order_joins_one_study(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital
) -> None:
    context = jane(loaded, order={"accession_number": loaded.accessions["jane_derm"]})

    first, second = matched(tmp_path, context), matched(tmp_path / "2", context)

    assert first.status == second.status == CaptureStatus.MATCHED
    assert first.study_instance_uid == second.study_instance_uid
    assert first.sop_instance_uid != second.sop_instance_uid


def test_without_an_order_the_current_encounter_is_used(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital
) -> None:
    capture = matched(tmp_path, jane(loaded))

    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["order"] is None
    assert capture.context["encounter"]["id"] == loaded.visits["jane_now"]
    again = matched(tmp_path / "2", jane(loaded))
    assert again.study_instance_uid == capture.study_instance_uid  # one per encounter


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": "DOE^JOHN"}, "the name sent for"),
        ({"name": None, "birth_date": "1970-01-03"}, "the birth date sent for"),
        ({"name": None}, "a second identifier"),
    ],
    ids=["name", "birth-date", "mrn-only"],
)
def test_demographics_that_disagree_stop_the_capture(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, change: dict, words: str
) -> None:
    context = jane(loaded)
    context["patient"] = {**context["patient"], **change}

    capture = matched(tmp_path, context)

    assert capture.status == CaptureStatus.UNMATCHED
    assert words in capture.reason
    # The capturer reads the reason: never the EMR's name or birth date in it.
    assert "Doe" not in capture.reason and "1970-01-02" not in capture.reason
    assert capture.match_report["emr_patient"]["name"] == "Doe^Jane^Q"


def test_an_order_of_another_patient_is_refused(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital
) -> None:
    capture = matched(
        tmp_path, jane(loaded, order={"accession_number": loaded.accessions["john_endo"]})
    )

    assert capture.status == CaptureStatus.UNMATCHED
    assert loaded.accessions["john_endo"] in capture.reason


def test_an_inactive_order_is_refused(tmp_path: Path, emr: FhirEngine, loaded: Hospital) -> None:
    capture = matched(
        tmp_path, jane(loaded, order={"accession_number": loaded.accessions["jane_done"]})
    )

    assert capture.status == CaptureStatus.UNMATCHED
    assert "no active order" in capture.reason


def test_an_order_named_by_reference_of_another_patient_is_refused(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital
) -> None:
    johns = emr.search(f"ServiceRequest?identifier={loaded.accessions['john_endo']}")[0]
    context = jane(loaded, order={"service_request": f"ServiceRequest/{johns['id']}"})

    capture = matched(tmp_path, context)

    assert capture.status == CaptureStatus.UNMATCHED
    assert "belongs to Patient/" in capture.reason


def test_two_open_orders_and_no_encounter_go_to_reconciliation(
    tmp_path: Path, emr: FhirEngine
) -> None:
    mrn, ref = f"MRN-{free_port()}", "urn:uuid:6b1f3c7e-0000-4000-8000-000000000001"
    emr.load(
        transaction(
            [
                (
                    ref,
                    patient(
                        mrn=mrn, family="Poe", given=["Ed"], birth_date="1980-02-03", gender="male"
                    ),
                ),
                (
                    "urn:uuid:6b1f3c7e-0000-4000-8000-000000000002",
                    imaging_order(
                        subject=ref,
                        status="active",
                        accession=f"{mrn}-A",
                        code_text="Wound",
                        authored_on="2024-05-01",
                    ),
                ),
                (
                    "urn:uuid:6b1f3c7e-0000-4000-8000-000000000003",
                    imaging_order(
                        subject=ref,
                        status="active",
                        accession=f"{mrn}-B",
                        code_text="Burn",
                        authored_on="2024-05-02",
                    ),
                ),
            ]
        )
    )

    capture = matched(tmp_path, {"patient": {"id": mrn, "birth_date": "1980-02-03"}})

    assert capture.status == CaptureStatus.UNMATCHED
    assert "2 open order(s)" in capture.reason
    accessions = {c.get("accession_number") for c in capture.match_report["candidates"]}
    assert accessions == {f"{mrn}-A", f"{mrn}-B"}


def test_an_unknown_mrn_is_unmatched(tmp_path: Path, emr: FhirEngine) -> None:
    capture = matched(tmp_path, {"patient": {"id": "NOBODY-1", "name": "X^Y"}})

    assert capture.status == CaptureStatus.UNMATCHED
    assert "no active patient with MRN NOBODY-1" in capture.reason


def test_the_emr_down_keeps_the_capture_waiting_until_it_returns(
    tmp_path: Path, settings, fhir_engine: FhirEngine, loaded: Hospital
) -> None:
    settings.HUB_FHIR_URL = f"http://127.0.0.1:{free_port()}/fhir/R4"
    settings.HUB_FHIR_MRN_SYSTEM = MRN_SYSTEM
    capture = received_capture(tmp_path, context=jane(loaded), inspected=True)

    result = capture_match(capture_id=capture.id)

    capture.refresh_from_db()
    assert result.retry_in is not None and result.retry_in > 0
    assert capture.status == CaptureStatus.INSPECTED
    assert capture.reason.startswith("waiting for the EMR")
    assert capture.lease_until is not None  # not before the retry
    assert capture_match(capture_id=capture.id).moved is False  # too early: still held

    settings.HUB_FHIR_URL = fhir_engine.base_url  # the EMR is back
    Capture.objects.filter(id=capture.id).update(lease_until=None)  # the retry is due
    assert capture_match(capture_id=capture.id).moved
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.MATCHED
    assert capture.context["patient"]["birth_date"] == "1970-01-02"
