"""A wound photo with a calibration marker through the whole stack: the photo and
its SR Measurement Report reach Orthanc in one study; one without a marker is
archived all the same, with the refusal recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from encapsulate.iods.measurement_report import read_measurement_report
from hub.captures.models import Capture, CaptureStatus
from tests.dicom_checks import dciodvfy_errors
from tests.encapsulate.measure.scenes import render
from tests.integration.test_media_kinds import archived_dataset, upload
from tests.media import make_jpeg
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONTEXT = {
    "patient": {"id": "MRN-W1", "name": "DOE^JANE"},
    "specialty": "wound",
    "body_site": {"code": "SCT:40983000", "meaning": "Upper arm", "laterality": "R"},
}


def test_a_wound_photo_with_a_marker_reaches_orthanc_with_its_sr_in_the_same_study(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    scene = render(seed=5)
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(scene.jpeg())

    created = upload(capturer_client, photo, CONTEXT)
    capture = wait_for_status(created["id"], "archived", "rejected", "failed", timeout=180)

    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    assert capture.measurement_state == "measured", capture.measurement_reason
    _, image = archived_dataset(hub_stack, capture.sop_instance_uid, tmp_path)
    sr_uid = capture.measurement_uids["sop_instance_uid"]
    sr_path, sr = archived_dataset(hub_stack, sr_uid, tmp_path)
    assert sr.StudyInstanceUID == image.StudyInstanceUID == capture.study_instance_uid
    assert sr.SeriesInstanceUID != image.SeriesInstanceUID
    reported = read_measurement_report(sr)
    assert reported.photo_sop_instance_uid == image.SOPInstanceUID
    assert reported.area_cm2 == pytest.approx(capture.measurement["area_cm2"], rel=1e-3)
    assert reported.area_cm2 == pytest.approx(scene.area_cm2, rel=0.1)
    assert dciodvfy_errors(sr_path) == []


def test_a_wound_photo_without_a_marker_is_archived_with_the_refusal_recorded(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    photo = make_jpeg(tmp_path / "plain.jpg", width=640, height=480)

    created = upload(capturer_client, photo, {**CONTEXT, "patient": {"id": "MRN-W2"}})
    capture = wait_for_status(created["id"], "archived", "rejected", "failed", timeout=180)

    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    assert capture.measurement_state == "refused"
    assert capture.measurement_reason.startswith("no calibration marker")
    assert hub_stack.find_instance(capture.sop_instance_uid)
    assert capture.instances.count() == 1
