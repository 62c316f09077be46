"""A capture session's study: one per session and patient when no order or encounter
gives one, a series per body site, and the order's or encounter's rule where one does."""

from __future__ import annotations

from pathlib import Path

import pytest

from encapsulate import parse_context
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus
from hub.captures.sessions import session_open
from hub.captures.states import capture_move
from hub.matching import services
from hub.matching.services import capture_match
from hub.pipeline.operators import capture_correct
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db

PATIENT = {"id": "MRN-1", "issuer": "HOSP"}
LEG = {"code": "SCT:30021000", "laterality": "L"}
FOOT = {"code": "SCT:56459004", "laterality": "R"}


@pytest.fixture
def session() -> str:
    # The factory's user, so that its captures may join.
    user = user_create_or_update(username="factory", role=Role.CAPTURER)
    return str(session_open(user=user, patient_data=PATIENT).id)


def matched(tmp_path: Path, name: str, **context: object) -> Capture:
    data = {"patient": PATIENT, "specialty": "wound", **context}
    capture = received_capture(tmp_path / name, context=data, inspected=True)
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    return capture


def series_number(capture: Capture) -> int | None:
    study = parse_context(capture.context).study
    assert study is not None
    return study.series_number


def test_a_sessions_captures_share_a_study_and_a_series_per_site(
    tmp_path: Path, session: str
) -> None:
    leg = matched(tmp_path, "a", session=session, body_site=LEG)
    foot = matched(tmp_path, "b", session=session, body_site=FOOT)
    leg_again = matched(tmp_path, "c", session=session, body_site=LEG)
    no_site = matched(tmp_path, "d", session=session)
    alone = matched(tmp_path, "e", body_site=LEG)

    assert len({c.study_instance_uid for c in (leg, foot, leg_again, no_site)}) == 1
    assert alone.study_instance_uid != leg.study_instance_uid
    assert leg.series_instance_uid == leg_again.series_instance_uid
    assert len({c.series_instance_uid for c in (leg, foot, no_site)}) == 3
    assert [series_number(c) for c in (leg, foot, leg_again, no_site)] == [1, 2, 1, 3]
    studies = [parse_context(c.context).study for c in (leg, foot, leg_again)]
    assert len({s.started_at for s in studies if s}) == 1


def test_with_an_encounter_the_encounters_study_wins_over_the_session(
    tmp_path: Path, session: str
) -> None:
    encounter = {"id": "ENC-1", "issuer": "HOSP"}
    in_session = matched(tmp_path, "a", session=session, encounter=encounter, body_site=LEG)
    outside = matched(tmp_path, "b", encounter=encounter, body_site=FOOT)

    assert in_session.study_instance_uid == outside.study_instance_uid
    assert [series_number(c) for c in (in_session, outside)] == [1, 2]


def test_a_capture_corrected_to_another_patient_leaves_the_sessions_study(
    tmp_path: Path, session: str
) -> None:
    first = matched(tmp_path, "a", session=session, body_site=LEG)
    second = matched(tmp_path, "b", session=session, body_site=LEG)
    capture_move(second.id, source=CaptureStatus.MATCHED, target=CaptureStatus.FAILED, reason="x")
    operator = user_create_or_update(username="ops", role=Role.OPERATOR)
    corrected = {**second.context, "patient": {"id": "MRN-2", "issuer": "HOSP"}, "study": None}

    capture_correct(capture_id=second.id, actor=operator, context_data=corrected, note="wrong bed")
    capture_match(capture_id=second.id)
    second.refresh_from_db()

    assert second.status == CaptureStatus.MATCHED, second.reason
    assert second.study_instance_uid != first.study_instance_uid
    assert second.series_instance_uid != first.series_instance_uid


def test_a_corrected_capture_gets_its_measurement_minted_afresh(tmp_path: Path) -> None:
    capture = matched(tmp_path, "a", body_site=LEG)
    capture_move(capture.id, source=CaptureStatus.MATCHED, target=CaptureStatus.FAILED, reason="x")
    old_uids = {"series_instance_uid": "1.2.3", "sop_instance_uid": "1.2.3.4", "tracking_uid": "9"}
    Capture.objects.filter(id=capture.id).update(
        measurement_uids=old_uids, measurement_state="measured"
    )
    operator = user_create_or_update(username="ops", role=Role.OPERATOR)
    corrected = {**capture.context, "patient": {"id": "MRN-2", "issuer": "HOSP"}, "study": None}

    capture_correct(capture_id=capture.id, actor=operator, context_data=corrected, note="wrong bed")
    capture.refresh_from_db()

    # The old SR's UIDs are withdrawn with the photo's: a new measurement mints its own.
    assert capture.measurement_uids is None
    assert capture.measurement_state == ""


def test_two_captures_of_a_site_matched_at_once_leave_no_gap_in_the_series_numbers(
    tmp_path: Path, session: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers match photos of one site at the same moment: each looks for the
    site's series before the other has made it. Seen in CI as series numbers
    1, 1, 3 for leg, leg and foot."""
    monkeypatch.setattr(services, "session_series", lambda *arguments: None)

    leg = matched(tmp_path, "a", session=session, body_site=LEG)
    leg_again = matched(tmp_path, "b", session=session, body_site=LEG)
    foot = matched(tmp_path, "c", session=session, body_site=FOOT)

    assert leg.series_instance_uid == leg_again.series_instance_uid != foot.series_instance_uid
    assert [series_number(c) for c in (leg, leg_again, foot)] == [1, 1, 2]
