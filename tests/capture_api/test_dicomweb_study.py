"""STOW-RS to one study, POST /dicom-web/studies/{study} (PS3.18 10.5.1.1.1): others refused."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.uid import generate_uid

from hub.accounts.roles import Role
from hub.captures.models import Capture
from tests.capture_api.test_dicomweb_stow import photo
from tests.capture_api.test_dicomweb_wic import VL_PHOTO, dataset, post_wic
from tests.conftest import api_client_for
from tests.media import make_jpeg

pytestmark = pytest.mark.django_db(transaction=True)

STUDY = "2.25.301234567890123456789"
MISMATCH = 0xC409


@pytest.fixture
def token(transactional_db: None) -> str:
    return api_client_for("study-device", Role.CAPTURER).token  # type: ignore[attr-defined]


def client_for(live_server, token: str) -> DICOMwebClient:
    return DICOMwebClient(
        url=f"{live_server.url}/dicom-web", headers={"Authorization": f"Token {token}"}
    )


def test_an_instance_of_another_study_fails_alone_with_its_reason(
    live_server, token: str, tmp_path: Path
) -> None:
    ours = photo(tmp_path, "a.dcm", PatientID="MRN-0042", StudyInstanceUID=STUDY)
    other = photo(tmp_path, "b.dcm", PatientID="MRN-0042", StudyInstanceUID=str(generate_uid()))

    # dicomweb-client posts to /studies/{study} and hands back a 202's answer as a success.
    answer = client_for(live_server, token).store_instances([ours, other], study_instance_uid=STUDY)

    assert [i.ReferencedSOPInstanceUID for i in answer.ReferencedSOPSequence] == [
        ours.SOPInstanceUID
    ]
    [failed] = answer.FailedSOPSequence
    assert (failed.ReferencedSOPInstanceUID, failed.FailureReason) == (
        other.SOPInstanceUID,
        MISMATCH,
    )
    assert Capture.objects.count() == 1


def test_instances_of_the_study_are_stored_with_200(
    live_server, token: str, tmp_path: Path
) -> None:
    ours = photo(tmp_path, "a.dcm", PatientID="MRN-0042", StudyInstanceUID=STUDY)

    answer = client_for(live_server, token).store_instances([ours], study_instance_uid=STUDY)

    assert "FailedSOPSequence" not in answer
    assert answer.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ours.SOPInstanceUID


def test_wic_datasets_of_another_study_or_none_are_refused_and_409(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    other = dataset(VL_PHOTO, "bulk/1", **{"0020000D": {"vr": "UI", "Value": ["2.25.9"]}})
    unnamed = dataset(VL_PHOTO, "bulk/1")

    response = post_wic(
        live_server,
        token,
        [other, unnamed],
        [("bulk/1", "image/jpeg", jpeg)],
        path=f"/dicom-web/studies/{STUDY}",
    )

    assert response.status_code == 409, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [MISMATCH, MISMATCH]
    assert Capture.objects.count() == 0


def test_a_wic_dataset_of_the_study_is_stored_in_it(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    ours = dataset(VL_PHOTO, "bulk/1", **{"0020000D": {"vr": "UI", "Value": [STUDY]}})

    response = post_wic(
        live_server,
        token,
        [ours],
        [("bulk/1", "image/jpeg", jpeg)],
        path=f"/dicom-web/studies/{STUDY}",
    )

    assert response.status_code == 200, response.text
    # Named with its accession, the order is kept with the client's study (`order` context).
    assert Capture.objects.get().context["order"]["study_instance_uid"] == STUDY


def test_a_target_that_is_not_a_uid_is_400(live_server, token: str, tmp_path: Path) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    with pytest.raises(requests.HTTPError) as error:
        client_for(live_server, token).store_instances([ds], study_instance_uid="1.02.x")
    assert error.value.response.status_code == 400
    assert error.value.response.json()["error"]["field"] == "study"
