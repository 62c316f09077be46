"""The wound over time in-process: the context's outline is what is measured, and
two photos of one wound carry one Tracking UID in their photo objects and SRs."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from encapsulate.iods.measurement_report import read_measurement_report
from hub.captures.models import Capture, CaptureStatus, DicomInstance
from hub.captures.storage import data_path, file_sha256
from hub.pipeline.measure import DUE, MEASURED, REFUSED, capture_measure
from hub.pipeline.steps import capture_encapsulate
from hub.wounds.models import Wound, WoundPhoto
from hub.wounds.services import patient_wounds
from tests.encapsulate.measure.scenes import render
from tests.hub.wounds.measured import measured

pytestmark = pytest.mark.django_db

SITE = {"code": "SCT:40983000", "meaning": "Upper arm", "laterality": "R"}


@pytest.fixture(scope="module")
def scene():
    return render(seed=3)


def sr_of(capture: Capture):
    sr = DicomInstance.objects.get(capture=capture, derived=True)
    return read_measurement_report(pydicom.dcmread(data_path(sr.path)))


def photo_of(capture: Capture) -> pydicom.Dataset:
    photo = DicomInstance.objects.get(capture=capture, sop_instance_uid=capture.sop_instance_uid)
    return pydicom.dcmread(data_path(photo.path), stop_before_pixels=True)


def photo_tracking(capture: Capture) -> dict[str, str]:
    """The photo's Acquisition Context, concept code value to its text or UID."""
    return {
        item.ConceptNameCodeSequence[0].CodeValue: item.get("TextValue") or item.get("UID")
        for item in photo_of(capture).AcquisitionContextSequence
    }


def test_the_traced_outline_in_the_context_is_the_one_measured(scene) -> None:
    traced = [[round(x, 1), round(y, 1)] for x, y in scene.outline.tolist()]

    capture = measured(scene.jpeg(), outline={"points": traced})

    assert capture.measurement_state == MEASURED, capture.measurement_reason
    assert capture.measurement["method"] == "outline"
    assert capture.measurement["outline"] == traced
    assert capture.measurement["area_cm2"] == pytest.approx(scene.area_cm2, rel=0.02)
    assert np.allclose(sr_of(capture).outline, traced, atol=0.01)


def test_the_tap_seeds_the_automatic_outline(scene) -> None:
    capture = measured(scene.jpeg(), tap=list(scene.wound_centre))

    assert capture.measurement["method"] == "auto"
    assert capture.measurement["area_cm2"] == pytest.approx(scene.area_cm2, rel=0.1)


@pytest.mark.parametrize(
    ("points", "reason"),
    [
        ([[100, 100], [300, 300], [300, 100], [100, 300]], "the outline crosses itself"),
        ([[100, 100], [5000, 100], [300, 300]], "1 outline point(s) lie outside the 1200x900"),
    ],
)
def test_a_refused_outline_is_the_reason_and_the_photo_goes_on(scene, points, reason) -> None:
    capture = measured(scene.jpeg(), outline={"points": points})

    assert capture.measurement_state == REFUSED
    assert capture.measurement_reason.startswith(reason)
    assert capture.instances.count() == 1  # the photo alone, to be delivered
    assert WoundPhoto.objects.filter(capture=capture).exists()  # still a photo of the wound


def test_two_photos_of_one_wound_share_its_tracking_identity(scene) -> None:
    first = measured(scene.jpeg(), body_site=SITE, wound={"new": True})
    wound = Wound.objects.get()
    second = measured(render(seed=4).jpeg(), body_site=SITE, wound={"id": str(wound.id)})

    one, two = sr_of(first), sr_of(second)
    assert one.tracking_uid == two.tracking_uid == wound.tracking_uid
    assert one.tracking_identifier == two.tracking_identifier == "Wound 1, Upper arm, right"
    expected = {"112039": "Wound 1, Upper arm, right", "112040": wound.tracking_uid}
    assert photo_tracking(first) == photo_tracking(second) == expected
    assert Wound.objects.count() == 1
    (history,) = patient_wounds(patient_id="MRN-7")
    assert [p.capture_id for p in history.series] == [str(first.id), str(second.id)]
    assert history.last_photo == second


def test_photos_without_a_named_wound_are_wounds_of_their_own(scene) -> None:
    first = measured(scene.jpeg())
    second = measured(scene.jpeg())

    assert sr_of(first).tracking_uid != sr_of(second).tracking_uid
    assert sorted(w.number for w in Wound.objects.all()) == [1, 2]


def test_another_patients_wound_is_refused_with_the_reason(scene) -> None:
    theirs = measured(scene.jpeg(), patient={"id": "MRN-OTHER"})
    wound = theirs.wound_photo.wound

    capture = measured(scene.jpeg(), wound={"id": str(wound.id)})

    assert capture.measurement_state == REFUSED
    assert capture.measurement_reason == (
        f"context.wound.id {wound.id} names no wound of patient MRN-7"
    )
    assert wound.photos.count() == 1
    assert photo_tracking(capture) == {}  # the photo is written and goes on without


def test_a_photo_that_is_no_wound_photo_gets_no_wound(scene) -> None:
    capture = measured(scene.jpeg(), specialty="general")

    assert capture.measurement_state == ""
    assert not WoundPhoto.objects.filter(capture=capture).exists()
    assert photo_tracking(capture) == {}


def test_a_retried_measurement_keeps_the_wound(scene) -> None:
    capture = measured(scene.jpeg())
    tracking = sr_of(capture).tracking_uid
    Capture.objects.filter(id=capture.id).update(measurement_state=DUE)

    assert capture_measure(capture_id=capture.id)

    assert sr_of(capture).tracking_uid == tracking == photo_tracking(capture)["112040"]
    assert Wound.objects.count() == 1


def test_a_retried_encapsulation_writes_the_same_photo(scene) -> None:
    capture = measured(scene.jpeg(), wound={"new": True})
    photo = DicomInstance.objects.get(capture=capture, sop_instance_uid=capture.sop_instance_uid)
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.MATCHED)

    assert capture_encapsulate(capture_id=capture.id)

    assert file_sha256(data_path(photo.path)) == photo.sha256
    assert Wound.objects.count() == 1


def test_a_photo_corrected_to_another_patient_loses_the_first_patients_wound(scene) -> None:
    capture = measured(scene.jpeg(), wound={"new": True})
    theirs = capture.wound_photo.wound
    corrected = {**capture.context, "patient": {"id": "MRN-8"}}
    Capture.objects.filter(id=capture.id).update(context=corrected, status=CaptureStatus.MATCHED)

    assert capture_encapsulate(capture_id=capture.id)

    capture.refresh_from_db()
    ours = capture.wound_photo.wound
    assert (ours.patient_id, ours.number) == ("MRN-8", 1)
    assert photo_tracking(capture)["112040"] == ours.tracking_uid != theirs.tracking_uid
    assert theirs.photos.count() == 0
