"""One wound photo through the real stack: API, Celery worker, database, broker, Orthanc."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from hub.captures.models import Capture, CaptureStatus
from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors, psnr, upright
from tests.media import make_jpeg, make_truncated_jpeg
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONTEXT = {
    "patient": {
        "id": "MRN-0042",
        "issuer": "HOSP",
        "name": "DOE^JANE",
        "birth_date": "1950-01-31",
        "sex": "F",
    },
    "order": {
        "accession_number": "ACC-7",
        "issuer": "HOSP",
        "service_request": "ServiceRequest/123",
        "study_instance_uid": None,
    },
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
    "operator": "NURSE^ANN",
    "institution": "General Hospital",
    "department": "Wound care",
    "captured_at": "2026-11-28T10:15:00+01:00",
    "description": "Pressure ulcer",
}


def upload(client: APIClient, path: Path, context: dict = CONTEXT, **headers: str) -> dict:
    content = BytesIO(path.read_bytes())
    content.name = path.name
    response = client.post(
        "/api/v1/captures",
        {"file": content, "context": json.dumps(context)},
        format="multipart",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    return response.json()


def archived_file(orthanc: OrthancPeer, sop_instance_uid: str, tmp_path: Path) -> Path:
    orthanc_id = orthanc.find_instance(sop_instance_uid)
    assert orthanc_id, f"{sop_instance_uid} is not in the archive"
    path = tmp_path / f"{sop_instance_uid}.dcm"
    path.write_bytes(orthanc.instance_file(orthanc_id))
    return path


def test_a_rotated_phone_photo_is_archived_upright_and_scrubbed(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    photo = make_jpeg(tmp_path / "wound.jpg", width=1024, height=768, orientation=6, gps=True)
    assert b"GPS" in photo.read_bytes()

    created = upload(capturer_client, photo)
    capture = wait_for_status(created["id"], "archived", "rejected", "failed")

    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    status = capturer_client.get(created["url"]).json()
    assert status["deliveries"][0]["status"] == "delivered"
    dicom = archived_file(hub_stack, status["dicom"]["sop_instance_uid"], tmp_path)
    assert dciodvfy_errors(dicom) == []
    ds = pydicom.dcmread(dicom)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.4"
    assert ds.StudyInstanceUID == status["dicom"]["study_instance_uid"]
    assert (ds.Rows, ds.Columns) == (1024, 768)  # orientation 6: the upright photo is portrait
    assert (ds.PatientID, ds.AccessionNumber) == ("MRN-0042", "ACC-7")
    assert ds.AnatomicRegionSequence[0].CodeValue == "30021000"
    assert ds.ImageLaterality == "L"
    raw = dicom.read_bytes()
    assert_no_private_metadata(raw)
    assert b"SN-" not in raw
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    decoded = np.asarray(Image.open(BytesIO(frame)).convert("RGB"), dtype=np.float64)
    expected = np.asarray(upright(Image.open(photo)).convert("RGB"), dtype=np.float64)
    assert decoded.shape == expected.shape
    assert psnr(decoded, expected) >= 45


def test_a_retried_upload_is_archived_once(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    photo = make_jpeg(tmp_path / "burn.jpg", width=320, height=240)
    first = upload(capturer_client, photo, **{"Idempotency-Key": "phone-17-photo-3"})
    second = upload(capturer_client, photo, **{"Idempotency-Key": "phone-17-photo-3"})

    assert second["id"] == first["id"]
    wait_for_status(first["id"], "archived")
    assert Capture.objects.count() == 1
    assert hub_stack.find_instance(first["dicom"]["sop_instance_uid"])


def test_a_truncated_photo_is_rejected_and_never_forwarded(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    before = hub_stack.count_instances()
    created = upload(capturer_client, make_truncated_jpeg(tmp_path / "cut.jpg"))

    capture = wait_for_status(created["id"], "rejected", "archived", "failed")

    assert capture.status == CaptureStatus.REJECTED
    assert capture.reason
    assert capturer_client.get(created["url"]).json()["reason"] == capture.reason
    assert hub_stack.count_instances() == before


def test_the_archive_down_delays_delivery_and_loses_nothing(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    hub_stack.stop()
    try:
        created = upload(capturer_client, make_jpeg(tmp_path / "ulcer.jpg", width=320, height=240))
        wait_for_status(created["id"], "delivering")
        capture = Capture.objects.get(id=created["id"])
        deadline = timezone.now() + timedelta(seconds=30)
        while capture.deliveries.get().attempts < 2 and timezone.now() < deadline:
            time.sleep(0.2)
        delivery = capture.deliveries.get()
        assert delivery.status == "retrying"
        assert delivery.attempts >= 2
        assert "127.0.0.1" in delivery.last_error
    finally:
        hub_stack.start()

    capture = wait_for_status(created["id"], "archived", "failed", timeout=90)
    assert capture.status == CaptureStatus.ARCHIVED
    assert hub_stack.find_instance(created["dicom"]["sop_instance_uid"])


def test_work_a_dead_worker_left_behind_is_resumed(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    """As if a worker died mid-encapsulation: the lease runs out and the step runs again."""
    photo = make_jpeg(tmp_path / "derm.jpg", width=320, height=240)
    created = upload(capturer_client, photo)
    wait_for_status(created["id"], "archived")
    Capture.objects.filter(id=created["id"]).update(
        status=CaptureStatus.INSPECTED,
        lease_until=timezone.now() - timedelta(seconds=1),
        updated_at=timezone.now() - timedelta(minutes=10),
    )
    Capture.objects.get(id=created["id"]).deliveries.all().delete()
    hub_stack.clear()

    capture = wait_for_status(created["id"], "archived", timeout=60)

    assert capture.instances.count() == 1
    assert hub_stack.find_instance(created["dicom"]["sop_instance_uid"])


def test_the_command_line_wraps_the_same_photo_without_the_hub(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "wound.jpg", width=640, height=480, orientation=6)
    context = tmp_path / "context.json"
    context.write_text(json.dumps(CONTEXT))
    out = tmp_path / "out"
    out.mkdir()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "encapsulate",
            "dicom",
            str(photo),
            "--context",
            str(context),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    (written,) = result.stdout.split()
    assert dciodvfy_errors(Path(written)) == []
