"""The Modality Worklist client against a real Orthanc worklist provider."""

from __future__ import annotations

import socket
import time as clock
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from pydicom import Dataset

from hub.dimse.worklist import (
    WorklistClient,
    WorklistError,
    WorklistItem,
    WorklistQuery,
    WorklistUnavailable,
    items_in_window,
    worklist_client_from_settings,
)
from tests.peers.worklist import (
    WorklistEntry,
    WorklistOrthancPeer,
    clear_worklist,
    write_worklist,
    write_worklist_file,
)

pytestmark = pytest.mark.integration

CALLING_AET = "CAPTUREHUB"
DAY = date(2025, 3, 14)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistOrthancPeer]:
    # Orthanc answers worklist queries only from AE titles in DicomModalities.
    peer = WorklistOrthancPeer(tmp_path_factory.mktemp("mwl"), hub_aet=CALLING_AET)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def worklist(provider: WorklistOrthancPeer) -> WorklistOrthancPeer:
    """The provider, running and with an empty worklist."""
    if not provider.is_running:
        provider.start()
    clear_worklist(provider)
    return provider


def client_for(peer: WorklistOrthancPeer, **overrides: object) -> WorklistClient:
    options: dict = {"called_aet": peer.aet, "calling_aet": CALLING_AET, "timeout": 5.0}
    options.update(overrides)
    return WorklistClient("127.0.0.1", peer.dicom_port, **options)


def entry(accession: str, start: datetime, **fields: object) -> WorklistEntry:
    values: dict = {"patient_id": "MRN-0042", "patient_name": "Doe^Jane"}
    values.update(fields)
    return WorklistEntry(accession_number=accession, scheduled_start=start, **values)


def accessions(items: list[WorklistItem]) -> list[str | None]:
    return [item.accession_number for item in items]


def test_find_by_accession_returns_every_field_stripped(worklist: WorklistOrthancPeer) -> None:
    scheduled = entry("ACC-1", datetime(2025, 3, 14, 10, 15), sex="F")
    write_worklist(worklist, [scheduled, entry("ACC-2", datetime(2025, 3, 14, 11, 0))])

    [item] = client_for(worklist).find(WorklistQuery(accession_number="ACC-1"))

    # Orthanc pads odd-length values with a space ("F ", "ACC-1 "); none is left.
    assert item.patient_id == "MRN-0042"
    assert item.issuer_of_patient_id == "HOSP"
    assert item.patient_name == "Doe^Jane"
    assert item.patient_birth_date == date(1970, 1, 1)
    assert item.patient_sex == "F"
    assert item.accession_number == "ACC-1"
    assert item.accession_number_issuer == "HOSP"
    assert item.requested_procedure_id == "RP1"
    assert item.requested_procedure_description == "Wound photography"
    assert item.study_instance_uid == scheduled.study_instance_uid
    assert item.referring_physician_name == "Referrer^Rita"
    step = item.scheduled_step
    assert step.start == datetime(2025, 3, 14, 10, 15)
    assert step.modality == "XC"
    assert step.station_ae_titles == ("WOUNDCAM",)
    assert step.station_names == ("WOUND CLINIC",)
    assert step.step_id == "SPS1"
    assert step.description == "Wound photo"


def test_find_by_patient_id_returns_each_of_their_steps(worklist: WorklistOrthancPeer) -> None:
    write_worklist(
        worklist,
        [
            entry("ACC-1", datetime(2025, 3, 14, 9, 0)),
            entry("ACC-2", datetime(2025, 3, 15, 9, 0), modality="ES"),
            entry("ACC-3", datetime(2025, 3, 14, 9, 0), patient_id="MRN-0099"),
        ],
    )

    items = client_for(worklist).find(WorklistQuery(patient_id="MRN-0042"))

    assert sorted(accessions(items)) == ["ACC-1", "ACC-2"]


def test_find_by_modality_station_and_date(worklist: WorklistOrthancPeer) -> None:
    write_worklist(
        worklist,
        [
            entry("HIT", datetime(2025, 3, 14, 9, 0)),
            entry("OTHER-DAY", datetime(2025, 3, 15, 9, 0)),
            entry("OTHER-STATION", datetime(2025, 3, 14, 9, 0), station_aet="DERMCAM"),
            entry("OTHER-MODALITY", datetime(2025, 3, 14, 9, 0), modality="ES"),
        ],
    )
    query = WorklistQuery(modality="XC", scheduled_station_aet="WOUNDCAM", scheduled_date=DAY)

    assert accessions(client_for(worklist).find(query)) == ["HIT"]


def test_date_range_and_time_window(worklist: WorklistOrthancPeer) -> None:
    write_worklist(
        worklist,
        [
            entry("EARLY", datetime(2025, 3, 14, 7, 30)),
            entry("MORNING", datetime(2025, 3, 15, 9, 30)),
            entry("LATE", datetime(2025, 3, 16, 9, 30)),
        ],
    )
    query = WorklistQuery(
        scheduled_date_from=DAY,
        scheduled_date_to=date(2025, 3, 15),
        scheduled_time_from=time(9, 0),
        scheduled_time_to=time(10, 0),
    )

    assert accessions(client_for(worklist).find(query)) == ["MORNING"]


def test_station_captures_are_matched_by_time_window(worklist: WorklistOrthancPeer) -> None:
    write_worklist(
        worklist,
        [
            entry("AT-1005", datetime(2025, 3, 14, 10, 5)),
            entry("AT-1020", datetime(2025, 3, 14, 10, 20)),
            entry("AT-1130", datetime(2025, 3, 14, 11, 30)),
            entry("ELSEWHERE", datetime(2025, 3, 14, 10, 10), station_aet="DERMCAM"),
        ],
    )
    captured, window = datetime(2025, 3, 14, 10, 10), timedelta(minutes=15)

    items = client_for(worklist).find(
        WorklistQuery.around(captured, window, station_aet="WOUNDCAM")
    )

    assert accessions(items_in_window(items, captured, window)) == ["AT-1005", "AT-1020"]


def test_a_window_across_midnight_asks_for_both_days(worklist: WorklistOrthancPeer) -> None:
    write_worklist(
        worklist,
        [
            entry("BEFORE", datetime(2025, 3, 14, 23, 50)),
            entry("AFTER", datetime(2025, 3, 15, 0, 5)),
            entry("NEXT-MORNING", datetime(2025, 3, 15, 8, 0)),
        ],
    )
    captured, window = datetime(2025, 3, 14, 23, 58), timedelta(minutes=10)

    items = client_for(worklist).find(
        WorklistQuery.around(captured, window, station_aet="WOUNDCAM")
    )

    assert accessions(items_in_window(items, captured, window)) == ["AFTER", "BEFORE"]


def test_no_match_is_an_empty_list(worklist: WorklistOrthancPeer) -> None:
    write_worklist(worklist, [entry("ACC-1", datetime(2025, 3, 14, 9, 0))])

    assert client_for(worklist).find(WorklistQuery(accession_number="NOPE")) == []


def test_an_entry_without_a_scheduled_step_is_not_taken_for_a_station_match(
    worklist: WorklistOrthancPeer,
) -> None:
    bare = Dataset()
    bare.PatientID = "MRN-0007"
    bare.AccessionNumber = "NO-STEP"
    write_worklist_file(worklist, bare, "no-step")
    write_worklist(worklist, [entry("HIT", datetime(2025, 3, 14, 9, 0))])

    # Orthanc 1.10 answers NO-STEP too: it matches step keys against an absent
    # Scheduled Procedure Step Sequence as if they were universal.
    query = WorklistQuery(scheduled_station_aet="WOUNDCAM", scheduled_date=DAY)

    assert accessions(client_for(worklist).find(query)) == ["HIT"]


@pytest.mark.parametrize("name", ["Łukasz^Żółć", "山田^太郎", "Müller^Zoë"])
def test_non_ascii_patient_names_round_trip(worklist: WorklistOrthancPeer, name: str) -> None:
    write_worklist(worklist, [entry("ACC-UTF8", datetime(2025, 3, 14, 9, 0), patient_name=name)])

    [item] = client_for(worklist).find(WorklistQuery(accession_number="ACC-UTF8"))

    assert item.patient_name == name


def test_an_unknown_calling_ae_title_says_what_to_register(worklist: WorklistOrthancPeer) -> None:
    write_worklist(worklist, [entry("ACC-1", datetime(2025, 3, 14, 9, 0))])

    with pytest.raises(WorklistError) as raised:
        client_for(worklist, calling_aet="STRANGER").find(WorklistQuery(accession_number="ACC-1"))

    # Orthanc accepts the association and then aborts the C-FIND (it does not
    # reject the A-ASSOCIATE-RQ); the reason is the same either way.
    assert not isinstance(raised.value, WorklistUnavailable)
    assert "register AE title STRANGER" in raised.value.reason
    assert "\n" not in raised.value.reason


def test_a_wrong_called_ae_title_points_at_the_setting(worklist: WorklistOrthancPeer) -> None:
    with pytest.raises(WorklistError) as raised:
        client_for(worklist, called_aet="NOT-ORTHANC").find(WorklistQuery(accession_number="X"))

    assert not isinstance(raised.value, WorklistUnavailable)
    assert "HUB_MWL_AET" in raised.value.reason


def test_provider_down_is_unavailable_quickly(worklist: WorklistOrthancPeer) -> None:
    worklist.stop()
    started = clock.monotonic()
    try:
        with pytest.raises(WorklistUnavailable) as raised:
            client_for(worklist, timeout=3.0).find(WorklistQuery(accession_number="ACC-1"))
    finally:
        elapsed = clock.monotonic() - started
        worklist.start()

    assert elapsed < 3.5
    assert f"127.0.0.1:{worklist.dicom_port}" in raised.value.reason


@pytest.mark.parametrize(
    "keys",
    [
        {"patient_id": "MRN*"},
        {"accession_number": "A?C"},
        {"patient_id": "   "},
        {"scheduled_date": DAY, "scheduled_date_to": DAY},
        {"scheduled_time_from": time(10), "scheduled_time_to": time(9)},
    ],
)
def test_queries_that_would_match_more_than_asked_are_refused(keys: dict) -> None:
    with pytest.raises(ValueError):
        WorklistQuery(**keys)


def test_items_in_window_wants_wall_clock_time() -> None:
    with pytest.raises(ValueError):
        items_in_window([], datetime(2025, 3, 14, 10, tzinfo=None).astimezone(), timedelta(1))


def test_the_client_comes_from_settings(settings) -> None:
    settings.HUB_MWL_HOST = None
    assert worklist_client_from_settings() is None

    settings.HUB_MWL_HOST = "ris.example.org"
    settings.HUB_MWL_PORT = 4242
    settings.HUB_MWL_AET = "RIS"
    settings.HUB_MWL_TIMEOUT = 7.5
    client = worklist_client_from_settings()

    assert client is not None
    assert (client.host, client.port, client.called_aet) == ("ris.example.org", 4242, "RIS")
    assert (client.calling_aet, client.timeout) == ("CAPTUREHUB", 7.5)


def test_a_provider_that_never_answers_is_unavailable_after_the_timeout() -> None:
    # A listener that accepts the connection and never speaks: the shape of a
    # hung provider, which a stopped Orthanc cannot show.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = WorklistClient("127.0.0.1", silent.getsockname()[1], called_aet="RIS", timeout=1.0)
        started = clock.monotonic()
        with pytest.raises(WorklistUnavailable) as raised:
            client.find(WorklistQuery(accession_number="ACC-1"))

    assert clock.monotonic() - started < 4.0
    assert "did not answer within 1 s" in raised.value.reason
