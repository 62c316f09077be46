"""Other kinds of capture through the whole stack: phone video, endoscopy stills, PDF."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from rest_framework.test import APIClient

from hub.captures.models import Capture, CaptureStatus
from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors
from tests.media import make_jpeg
from tests.media_documents import make_pdf
from tests.media_video import make_rotated_phone_mov
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def upload(client: APIClient, path: Path, context: dict) -> dict:
    content = BytesIO(path.read_bytes())
    content.name = path.name
    response = client.post(
        "/api/v1/captures",
        {"file": content, "context": json.dumps(context)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def archived_dataset(
    orthanc: OrthancPeer, uid: str, tmp_path: Path
) -> tuple[Path, pydicom.Dataset]:
    orthanc_id = orthanc.find_instance(uid)
    assert orthanc_id, f"{uid} is not in the archive"
    path = tmp_path / f"{uid}.dcm"
    path.write_bytes(orthanc.instance_file(orthanc_id))
    return path, pydicom.dcmread(path)


def test_a_rotated_phone_video_is_archived_upright_as_video_photographic(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    video = make_rotated_phone_mov(tmp_path / "burn.mov")
    context = {
        "patient": {"id": "MRN-V1", "name": "DOE^JANE"},
        "specialty": "burn",
        "body_site": {"code": "SCT:40983000", "meaning": "Upper arm", "laterality": "R"},
    }

    created = upload(capturer_client, video, context)
    capture = wait_for_status(created["id"], "archived", "rejected", "failed", timeout=120)

    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    path, ds = archived_dataset(hub_stack, capture.sop_instance_uid, tmp_path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.4.1"
    assert (ds.Rows, ds.Columns) == (320, 240)  # displayed portrait
    assert int(ds.NumberOfFrames) > 1
    assert "DERIVED" in ds.ImageType  # rotation needs a transcode
    assert dciodvfy_errors(path) == []
    assert_no_private_metadata(path.read_bytes())


def test_an_endoscopy_still_becomes_vl_endoscopic(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    still = make_jpeg(tmp_path / "still.jpg", width=320, height=240)
    context = {
        "patient": {"id": "MRN-E1", "name": "ROE^JOHN"},
        "specialty": "endoscopy",
        "body_site": {"code": "SCT:69695003", "meaning": "Stomach"},
    }

    created = upload(capturer_client, still, context)
    capture = wait_for_status(created["id"], "archived", "rejected", "failed")

    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    path, ds = archived_dataset(hub_stack, capture.sop_instance_uid, tmp_path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.1"
    assert ds.Modality == "ES"
    assert dciodvfy_errors(path) == []


def test_a_scanned_pdf_becomes_encapsulated_pdf_and_one_with_javascript_is_refused(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    context = {"patient": {"id": "MRN-D1", "name": "DOE^JANE"}, "description": "Consent form"}

    good = upload(capturer_client, make_pdf(tmp_path / "consent.pdf"), context)
    active = upload(capturer_client, make_pdf(tmp_path / "active.pdf", javascript=True), context)

    archived = wait_for_status(good["id"], "archived", "rejected", "failed")
    refused = wait_for_status(active["id"], "archived", "rejected", "failed")
    assert archived.status == CaptureStatus.ARCHIVED, archived.reason
    path, ds = archived_dataset(hub_stack, archived.sop_instance_uid, tmp_path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"
    assert dciodvfy_errors(path) == []
    assert refused.status == CaptureStatus.REJECTED
    assert "JavaScript" in refused.reason
    assert hub_stack.find_instance(refused.sop_instance_uid) is None
