"""The measurement step in-process: a wound photo with a marker gets its SR in
the photo's study; one without is refused and goes on to delivery all the same."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pydicom
import pytest

from encapsulate.iods.measurement_report import read_measurement_report
from encapsulate.photo import gray_copy as gray_copy_module
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus, DicomInstance
from hub.captures.receive import Upload, capture_receive
from hub.captures.storage import data_path
from hub.delivery.services import capture_deliveries_start
from hub.matching.services import capture_match
from hub.pipeline.measure import DUE, MEASURED, REFUSED, capture_measure, measurement_due
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.encapsulate.measure.scenes import render
from tests.media import make_jpeg

pytestmark = pytest.mark.django_db


def encapsulated(photo: bytes, specialty: str = "wound", *, measured_next: bool = False) -> Capture:
    user = user_create_or_update(username="measurer", role=Role.CAPTURER)
    capture = capture_receive(
        user=user,
        upload=Upload(name="wound.jpg", size=len(photo), head=photo[:4096], chunks=[photo]),
        context_data={"patient": {"id": "MRN-7"}, "specialty": specialty},
        max_bytes=10**9,
    ).capture
    assert capture_inspect(capture_id=capture.id, measured_next=measured_next)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    capture.refresh_from_db()
    return capture


@pytest.fixture(scope="module")
def scene():
    return render(seed=3)


def test_a_wound_photo_with_a_marker_gets_its_sr_in_the_photos_study(scene) -> None:
    capture = encapsulated(scene.jpeg())
    assert capture.measurement_state == DUE
    assert measurement_due(capture.id)

    assert capture_measure(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ENCAPSULATED
    assert capture.measurement_state == MEASURED
    assert capture.measurement["method"] == "auto"
    assert capture.measurement["area_cm2"] == pytest.approx(scene.area_cm2, rel=0.1)
    assert capture.step_attempts == 0 and capture.lease_until is None
    sr = DicomInstance.objects.get(capture=capture, derived=True)
    assert sr.sop_instance_uid == capture.measurement_uids["sop_instance_uid"]
    dataset = pydicom.dcmread(data_path(sr.path))
    # The row says what the file holds, without the step reading it back.
    assert sr.transfer_syntax_uid == dataset.file_meta.TransferSyntaxUID
    assert sr.sop_class_uid == dataset.SOPClassUID
    assert sr.sha256 == hashlib.sha256(data_path(sr.path).read_bytes()).hexdigest()
    assert dataset.StudyInstanceUID == capture.study_instance_uid
    assert dataset.SeriesInstanceUID not in (capture.series_instance_uid, "")
    reported = read_measurement_report(dataset)
    assert reported.photo_sop_instance_uid == capture.sop_instance_uid
    assert reported.tracking_uid == capture.measurement_uids["tracking_uid"]
    assert reported.area_cm2 == pytest.approx(capture.measurement["area_cm2"], rel=1e-3)
    # Measured, the capture goes on to delivery with both instances.
    assert not measurement_due(capture.id)
    capture_deliveries_start(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status in (CaptureStatus.DELIVERING, CaptureStatus.ENCAPSULATED)
    assert capture.instances.count() == 2


def test_a_photo_measured_next_is_decoded_once_and_measured_the_same(
    scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = encapsulated(scene.jpeg())
    assert capture_measure(capture_id=alone.id)
    monkeypatch.setattr(gray_copy_module, "_kept", None)
    decoded: list[str] = []
    real = gray_copy_module._decoded

    def counted(file, reduction):  # type: ignore[no-untyped-def]
        decoded.append(file.name)
        return real(file, reduction)

    monkeypatch.setattr(gray_copy_module, "_decoded", counted)

    chained = encapsulated(scene.jpeg(), measured_next=True)
    original = str(data_path(chained.original_path).resolve())
    assert decoded == [original]  # at inspection, for the faces
    assert capture_measure(capture_id=chained.id)
    assert decoded == [original]  # and the marker search took it
    alone.refresh_from_db()
    chained.refresh_from_db()
    assert chained.media_info["faces"] == alone.media_info["faces"]
    assert chained.measurement_state == MEASURED
    assert chained.measurement == alone.measurement


def test_a_retried_measurement_writes_the_same_bytes(scene) -> None:
    capture = encapsulated(scene.jpeg())
    assert capture_measure(capture_id=capture.id)
    first = DicomInstance.objects.get(capture=capture, derived=True)
    # A crash after writing and before finishing: the sweep's retry measures again.
    Capture.objects.filter(id=capture.id).update(measurement_state=DUE)

    assert capture_measure(capture_id=capture.id)

    (again,) = DicomInstance.objects.filter(capture=capture, derived=True)
    assert (again.sop_instance_uid, again.sha256) == (first.sop_instance_uid, first.sha256)


def test_a_photo_without_a_marker_is_refused_and_goes_on(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "plain.jpg", width=640, height=480).read_bytes()
    capture = encapsulated(photo)

    assert capture_measure(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.measurement_state == REFUSED
    assert capture.measurement_reason.startswith("no calibration marker")
    assert capture.measurement is None
    assert capture.instances.count() == 1
    assert not measurement_due(capture.id)


def test_a_failure_to_measure_is_recorded_not_raised(scene) -> None:
    capture = encapsulated(scene.jpeg())
    photo = DicomInstance.objects.get(capture=capture)
    data_path(photo.path).unlink()  # the photo's DICOM header cannot be read

    assert capture_measure(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ENCAPSULATED
    assert capture.measurement_state == REFUSED
    assert capture.measurement_reason.startswith("the measurement failed: ")


def test_the_last_try_gives_up_without_failing_the_capture(scene, settings) -> None:
    capture = encapsulated(scene.jpeg())
    Capture.objects.filter(id=capture.id).update(
        step_attempts=settings.HUB_STEP_MAX_ATTEMPTS - 1, step_error="Killed"
    )

    assert capture_measure(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ENCAPSULATED
    assert capture.measurement_state == REFUSED
    assert "without finishing; last: Killed" in capture.measurement_reason


def test_a_general_photo_is_not_measured(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "plain.jpg", width=64, height=48).read_bytes()
    capture = encapsulated(photo, specialty="general")

    assert capture.measurement_state == ""
    assert not measurement_due(capture.id)
