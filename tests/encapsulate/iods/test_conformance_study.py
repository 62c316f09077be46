"""One study, one set of study attributes (PS3.3 C.7.2.1) and one Timezone Offset From
UTC (C.12.1.1.8), whatever each instance's own clock."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from pathlib import Path

import pydicom
import pytest

from encapsulate import (
    CaptureContext,
    InstanceIdentity,
    StudyFacts,
    context_to_json,
    parse_context,
    wrap,
)
from tests.dicom_checks import assert_dciodvfy_clean
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media import make_jpeg
from tests.media_documents import make_pdf
from tests.media_video import make_h264

STUDY = StudyFacts(
    started_at=datetime.fromisoformat("2026-11-28T08:05:00+01:00"),
    description="Wound review",
    series_number=3,
)
STUDY_KEYS = ("StudyDate", "StudyTime", "StudyDescription", "TimezoneOffsetFromUTC")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    # The photo's EXIF says 10:15 +01:00; the MP4 clock is UTC (09:15Z), as phones write it.
    return {
        "photo": make_jpeg(folder / "p.jpg", width=320, height=240),
        "video": make_h264(
            folder / "v.mp4",
            seconds=0.3,
            metadata=("-metadata", "creation_time=2026-11-28T09:15:00Z"),
        ),
        "pdf": make_pdf(folder / "d.pdf"),
    }


def _wrapped(path: Path, context: CaptureContext, out: Path) -> pydicom.Dataset:
    out.mkdir()
    identity = InstanceIdentity.mint(study_instance_uid="1.2.826.0.1.3680043.10.543.1")
    [written] = wrap(path, context=context, identity=identity, out_dir=out)
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path, stop_before_pixels=True)


def test_every_instance_of_a_study_carries_its_attributes(media, tmp_path) -> None:
    base = parse_context(copy.deepcopy(FULL_CONTEXT))
    written = {}
    for kind, path in media.items():
        # Each capture has its own description; the study keeps the first one's.
        context = dataclasses.replace(base, study=STUDY, description=f"{kind} of the ulcer")
        written[kind] = _wrapped(path, context, tmp_path / kind)
    for ds in written.values():
        assert [str(ds.get(k, "")) for k in STUDY_KEYS] == [
            "20261128",
            "080500",
            "Wound review",
            "+0100",
        ]
        assert ds.SeriesNumber == 3
    # Each instance keeps its own acquisition time, in the study's zone.
    assert written["photo"].ContentTime == written["video"].ContentTime == "101500"
    assert written["video"].AcquisitionDateTime == "20261128101500+0100"


def test_without_the_hub_the_zone_is_the_contexts(media, tmp_path) -> None:
    context = parse_context(copy.deepcopy(FULL_CONTEXT))  # captured_at 10:15 +01:00
    photo = _wrapped(media["photo"], context, tmp_path / "photo")
    video = _wrapped(media["video"], context, tmp_path / "video")
    for key in STUDY_KEYS:
        assert photo[key].value == video[key].value, key
    assert video.TimezoneOffsetFromUTC == "+0100"


def test_study_facts_survive_json(context) -> None:
    with_study = dataclasses.replace(context, study=STUDY)
    assert parse_context(context_to_json(with_study)) == with_study
