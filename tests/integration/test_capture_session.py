"""A nurse's sitting through the real stack: three photos of one session, one study in Orthanc."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
import requests
from rest_framework.test import APIClient

from hub.captures.models import Capture, CaptureStatus
from tests.dicom_checks import dciodvfy_errors
from tests.media import make_jpeg
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PATIENT = {"id": "MRN-SESS-1", "issuer": "HOSP", "name": "ROE^ANN", "birth_date": "1961-03-04"}
LEFT_LEG = {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"}
RIGHT_FOOT = {"code": "SCT:56459004", "meaning": "Foot", "laterality": "R"}


def upload(client: APIClient, photo: Path, context: dict) -> str:
    content = BytesIO(photo.read_bytes())
    content.name = photo.name
    response = client.post(
        "/api/v1/captures",
        {"file": content, "context": json.dumps(context)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def archived(orthanc: OrthancPeer, sop_instance_uid: str, tmp_path: Path) -> pydicom.Dataset:
    orthanc_id = orthanc.find_instance(sop_instance_uid)
    assert orthanc_id, f"{sop_instance_uid} is not in the archive"
    path = tmp_path / f"{sop_instance_uid}.dcm"
    path.write_bytes(orthanc.instance_file(orthanc_id))
    assert dciodvfy_errors(path) == []
    return pydicom.dcmread(path)


def orthanc_studies_of(orthanc: OrthancPeer, patient_id: str) -> list[str]:
    response = requests.post(
        f"{orthanc.url}/tools/find",
        json={"Level": "Study", "Query": {"PatientID": patient_id}},
        auth=(orthanc.username, orthanc.password),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def test_three_photos_of_one_session_are_one_study_in_the_archive_with_a_series_per_site(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    opened = capturer_client.post("/api/v1/sessions", {"patient": PATIENT}, format="json")
    assert opened.status_code == 201, opened.content
    session = opened.json()["id"]
    sites = [LEFT_LEG, LEFT_LEG, RIGHT_FOOT]
    ids = []
    for number, site in enumerate(sites):
        photo = make_jpeg(tmp_path / f"wound-{number}.jpg", width=320, height=240)
        context = {"session": session, "patient": PATIENT, "specialty": "wound", "body_site": site}
        ids.append(upload(capturer_client, photo, context))
    # Without the session, the same patient's photo is a study of its own.
    alone = upload(
        capturer_client,
        make_jpeg(tmp_path / "alone.jpg", width=320, height=240),
        {"patient": PATIENT, "specialty": "wound", "body_site": LEFT_LEG},
    )

    captures = [wait_for_status(pk, CaptureStatus.ARCHIVED) for pk in [*ids, alone]]
    written = [archived(hub_stack, c.sop_instance_uid, tmp_path) for c in captures]

    session_study = {ds.StudyInstanceUID for ds in written[:3]}
    assert len(session_study) == 1
    assert written[3].StudyInstanceUID not in session_study
    assert len(orthanc_studies_of(hub_stack, PATIENT["id"])) == 2
    # One series per body site, numbered in the order the sites first came.
    leg, leg_again, foot = written[:3]
    assert leg.SeriesInstanceUID == leg_again.SeriesInstanceUID != foot.SeriesInstanceUID
    assert (leg.SeriesNumber, leg_again.SeriesNumber, foot.SeriesNumber) == (1, 1, 2)
    # Every instance of the study describes it the same way (PS3.3 C.7.2.1).
    assert len({(ds.StudyDate, ds.StudyTime) for ds in written[:3]}) == 1
    answer = capturer_client.get(f"/api/v1/captures/{ids[0]}").json()
    assert answer["context"]["session"] == session
    assert capturer_client.get(f"/api/v1/sessions/{session}").json()["captures"] == list(
        reversed(ids)
    )
