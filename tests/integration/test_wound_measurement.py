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


def test_two_captures_of_one_wound_carry_one_tracking_uid_to_orthanc_in_photos_and_srs(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    context = {**CONTEXT, "patient": {"id": "MRN-W3"}}
    first_photo, second_photo = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first_photo.write_bytes(render(seed=5).jpeg())
    scene = render(seed=6, wound_radius_mm=10)
    second_photo.write_bytes(scene.jpeg())

    first = upload(capturer_client, first_photo, {**context, "wound": {"new": True}})
    first = wait_for_status(first["id"], "archived", "rejected", "failed", timeout=180)
    (wound,) = capturer_client.post(
        "/api/v1/patients/wounds", {"identifier": "MRN-W3"}, format="json"
    ).json()["results"]
    traced = {"points": [[round(x, 1), round(y, 1)] for x, y in scene.outline.tolist()]}
    second = upload(
        capturer_client, second_photo, {**context, "wound": {"id": wound["id"]}, "outline": traced}
    )
    second = wait_for_status(second["id"], "archived", "rejected", "failed", timeout=180)

    reports, photos = [], []
    for capture in (first, second):
        assert capture.measurement_state == "measured", capture.measurement_reason
        _, sr = archived_dataset(hub_stack, capture.measurement_uids["sop_instance_uid"], tmp_path)
        reports.append(read_measurement_report(sr))
        path, photo = archived_dataset(hub_stack, capture.sop_instance_uid, tmp_path)
        assert dciodvfy_errors(path) == []
        photos.append(
            {
                item.ConceptNameCodeSequence[0].CodeValue: item.get("TextValue") or item.get("UID")
                for item in photo.AcquisitionContextSequence
            }
        )
    assert reports[0].tracking_uid == reports[1].tracking_uid == wound["tracking_uid"]
    # The photo objects carry the same identity themselves (DCM 112039, 112040).
    expected = {"112039": reports[0].tracking_identifier, "112040": wound["tracking_uid"]}
    assert photos[0] == photos[1] == expected
    assert reports[1].area_cm2 == pytest.approx(scene.area_cm2, rel=0.02)  # the traced outline
    (listed,) = capturer_client.post(
        "/api/v1/patients/wounds", {"identifier": "MRN-W3"}, format="json"
    ).json()["results"]
    assert [p["capture"] for p in listed["series"]] == [str(first.id), str(second.id)]
