"""One study, one set of study attributes: the match step gives every capture of a
study the study's date, time, description and UTC offset, and its own series number."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from encapsulate import parse_context
from hub.captures.models import Capture, CaptureStatus
from hub.matching.models import StudyAssignment
from hub.matching.services import assign_study, capture_match, study_start
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db

ENCOUNTER = {"id": "ENC-1", "issuer": "HOSP"}


def _matched(tmp_path: Path, name: str, *, media_time: str | None, **context: object) -> Capture:
    data = {"patient": {"id": "MRN-1"}, "encounter": ENCOUNTER, "specialty": "wound", **context}
    capture = received_capture(tmp_path / name, context=data, inspected=True)
    if media_time is not None:
        # As a phone's MP4 clock says it: UTC.
        Capture.objects.filter(id=capture.id).update(
            media_info={**capture.media_info, "captured_at": media_time}
        )
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    return capture


def test_every_capture_of_a_study_gets_the_first_ones_attributes(tmp_path: Path) -> None:
    # The fixture photo's EXIF: 10:15 +01:00.
    first = _matched(tmp_path, "a", media_time=None, description="Pressure ulcer")
    second = _matched(
        tmp_path,
        "b",
        media_time="2026-11-28T11:30:00+00:00",
        captured_at="2026-11-28T12:30:00+01:00",
        description="Ulcer, video",
    )
    assert first.study_instance_uid == second.study_instance_uid
    studies = [parse_context(c.context).study for c in (first, second)]
    assert studies[0].started_at == studies[1].started_at
    assert studies[1].started_at.isoformat() == "2026-11-28T10:15:00+01:00"
    assert {s.description for s in studies} == {"Pressure ulcer"}
    assert [s.series_number for s in studies] == [1, 2]
    assert StudyAssignment.objects.get().series_count == 2


def test_a_capture_matched_again_keeps_its_series_number(tmp_path: Path) -> None:
    capture = _matched(tmp_path, "a", media_time=None)
    context = parse_context(capture.context)
    uid, study = assign_study(
        context,
        minted=capture.study_instance_uid,
        started=datetime.fromisoformat("2026-11-29T08:00:00+01:00"),
        series_number=context.study.series_number,
    )
    assert (uid, study) == (capture.study_instance_uid, context.study)
    assert StudyAssignment.objects.get().series_count == 1


def test_a_utc_media_clock_takes_the_contexts_offset() -> None:
    context = parse_context({"patient": {"id": "M"}, "captured_at": "2026-11-28T10:15:00-05:00"})
    start = study_start(datetime.fromisoformat("2026-11-28T15:15:00+00:00"), context)
    assert start.isoformat() == "2026-11-28T10:15:00-05:00"
    own = datetime.fromisoformat("2026-11-28T16:15:00+01:00")
    assert study_start(own, context) == own and start.utcoffset() != own.utcoffset()
