"""The match step against a real Orthanc worklist: by accession, and by station and time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pydicom
import pytest
from django.utils import timezone

from encapsulate import parse_context
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import CaptureStatus
from hub.captures.storage import data_path
from hub.matching.reconcile import capture_choose_candidate
from hub.matching.services import capture_match, captured_at
from hub.pipeline.steps import capture_encapsulate
from tests.dicom_checks import assert_dciodvfy_clean
from tests.hub.factories import received_capture
from tests.peers.ports import free_port
from tests.peers.worklist import WorklistEntry, WorklistOrthancPeer, clear_worklist, write_worklist

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
HUB_AET = "CAPTUREHUB"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistOrthancPeer]:
    peer = WorklistOrthancPeer(tmp_path_factory.mktemp("mwl-match"), hub_aet=HUB_AET)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def worklist(provider: WorklistOrthancPeer, settings) -> WorklistOrthancPeer:
    clear_worklist(provider)
    settings.HUB_FHIR_URL = None
    settings.HUB_MWL_HOST = "127.0.0.1"
    settings.HUB_MWL_PORT = provider.dicom_port
    settings.HUB_MWL_AET = provider.aet
    settings.HUB_AE_TITLE = HUB_AET
    settings.HUB_MWL_WINDOW_MINUTES = 60
    return provider


def taken_at(capture) -> datetime:
    """When the capture was taken, as the worklist holds times: wall-clock, hub zone."""
    moment = captured_at(capture, parse_context(capture.context))
    return timezone.localtime(moment).replace(tzinfo=None)


def inspected(tmp_path: Path, context: dict):
    return received_capture(tmp_path, context=context, inspected=True)


def matched(capture):
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    return capture


def endoscopy(
    accession: str, patient: str, start: datetime, station: str = "ENDO1"
) -> WorklistEntry:
    return WorklistEntry(
        patient_id=patient,
        patient_name="Doe^Jane",
        birth_date=datetime(1970, 1, 2).date(),
        sex="F",
        accession_number=accession,
        scheduled_start=start.replace(second=0, microsecond=0),
        modality="ES",
        station_aet=station,
    )


def matched_with(tmp_path: Path, context: dict):
    return matched(inspected(tmp_path, context))


def device(station: str = "ENDO1") -> dict:
    return {
        "device": {"station_aet": station, "modality": "ES"},
        "specialty": "endoscopy",
        "captured_at": timezone.now().isoformat(),
    }


def test_a_device_capture_is_matched_by_station_and_time(
    tmp_path: Path, worklist: WorklistOrthancPeer
) -> None:
    capture = inspected(tmp_path, device())
    at = taken_at(capture)
    entry = endoscopy("ES-100", "MRN-E1", at + timedelta(minutes=12))
    write_worklist(worklist, [entry, endoscopy("ES-101", "MRN-E2", at + timedelta(hours=5))])

    capture = matched(capture)

    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["patient"]["id"] == "MRN-E1"
    assert capture.context["patient"]["name"] == "Doe^Jane"
    assert capture.context["order"]["accession_number"] == "ES-100"
    assert capture.study_instance_uid == entry.study_instance_uid


def test_the_written_object_names_the_scheduled_procedure_and_step_it_fulfils(
    tmp_path: Path, worklist: WorklistOrthancPeer
) -> None:
    capture = inspected(tmp_path, device())
    entry = endoscopy("ES-150", "MRN-E7", taken_at(capture) + timedelta(minutes=5))
    entry = dataclasses.replace(entry, requested_procedure_id="RP-77", step_id="SPS-77-1")
    write_worklist(worklist, [entry])

    capture = matched(capture)
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture_encapsulate(capture_id=capture.id)

    [instance] = capture.instances.all()
    path = data_path(instance.path)
    request = pydicom.dcmread(path).RequestAttributesSequence[0]
    assert request.RequestedProcedureID == "RP-77"
    assert request.ScheduledProcedureStepID == "SPS-77-1"
    assert request.AccessionNumber == "ES-150"
    assert request.StudyInstanceUID == entry.study_instance_uid
    assert_dciodvfy_clean(path)


def test_two_entries_in_the_window_go_to_reconciliation(
    tmp_path: Path, worklist: WorklistOrthancPeer
) -> None:
    capture = inspected(tmp_path, device())
    at = taken_at(capture)
    write_worklist(
        worklist,
        [
            endoscopy("ES-200", "MRN-E3", at - timedelta(minutes=20)),
            endoscopy("ES-201", "MRN-E4", at + timedelta(minutes=20)),
        ],
    )

    capture = matched(capture)

    assert capture.status == CaptureStatus.UNMATCHED
    assert "2 worklist entries for station ENDO1" in capture.reason
    assert {c["accession_number"] for c in capture.match_report["candidates"]} == {
        "ES-200",
        "ES-201",
    }

    operator = user_create_or_update(username="endo-it", role=Role.OPERATOR)
    capture_choose_candidate(capture_id=capture.id, actor=operator, candidate_id="accession:ES-201")
    capture.refresh_from_db()
    assert capture.context["order"]["requested_procedure_id"] == "RP1"
    assert capture.context["order"]["scheduled_procedure_step_id"] == "SPS1"
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["patient"]["id"] == "MRN-E4"


def test_no_entry_for_the_station_is_unmatched(
    tmp_path: Path, worklist: WorklistOrthancPeer
) -> None:
    capture = inspected(tmp_path, device("ENDO1"))
    write_worklist(worklist, [endoscopy("ES-300", "MRN-E5", taken_at(capture), station="ENDO2")])

    capture = matched(capture)

    assert capture.status == CaptureStatus.UNMATCHED
    assert "no worklist entry for station ENDO1" in capture.reason


def test_an_accession_is_checked_against_its_worklist_entry(
    tmp_path: Path, worklist: WorklistOrthancPeer
) -> None:
    write_worklist(worklist, [endoscopy("ES-400", "MRN-E6", datetime(2026, 1, 5, 10, 0))])

    right = matched_with(
        tmp_path,
        {"patient": {"id": "MRN-E6", "name": "DOE^JANE"}, "order": {"accession_number": "ES-400"}},
    )
    wrong = matched_with(
        tmp_path / "2",
        {"patient": {"id": "MRN-OTHER"}, "order": {"accession_number": "ES-400"}},
    )

    assert right.status == CaptureStatus.MATCHED, right.reason
    assert right.context["patient"]["birth_date"] == "1970-01-02"
    assert wrong.status == CaptureStatus.UNMATCHED
    assert "scheduled for patient MRN-E6, not MRN-OTHER" in wrong.reason


def test_a_device_capture_without_a_worklist_is_unmatched(tmp_path: Path, settings) -> None:
    settings.HUB_FHIR_URL = settings.HUB_MWL_HOST = None

    capture = matched(inspected(tmp_path, device()))

    assert capture.status == CaptureStatus.UNMATCHED
    assert "HUB_MWL_HOST" in capture.reason


def test_the_worklist_down_keeps_the_capture_waiting(tmp_path: Path, settings) -> None:
    settings.HUB_FHIR_URL = None
    settings.HUB_MWL_HOST, settings.HUB_MWL_PORT = "127.0.0.1", free_port()
    settings.HUB_MWL_AET, settings.HUB_MWL_TIMEOUT = "ORTHANC", 1.0
    capture = received_capture(tmp_path, context=device(), inspected=True)

    result = capture_match(capture_id=capture.id)

    capture.refresh_from_db()
    assert result.retry_in is not None
    assert capture.status == CaptureStatus.INSPECTED
    assert capture.reason.startswith("waiting for the worklist")
