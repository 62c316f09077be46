"""A capture received by STOW-RS goes through the real pipeline to the archive (Orthanc)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient

from hub.accounts.roles import Role
from hub.captures.models import Capture
from tests.capture_api.test_dicomweb_wic import LOWER_LEG_LEFT, VL_PHOTO, dataset, post_wic
from tests.conftest import api_client_for
from tests.dicom_checks import dciodvfy_errors
from tests.hub.delivery.photos import write_photo
from tests.media import make_jpeg
from tests.media_photos import make_png
from tests.media_video import make_h264
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_instance_stored_by_stow_rs_is_archived_with_its_patient(
    live_server,
    hub_stack: OrthancPeer,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    token = api_client_for("stow-device", Role.CAPTURER).token  # type: ignore[attr-defined]
    path = tmp_path / "device.dcm"
    write_photo(path)
    ds = pydicom.dcmread(path)
    ds.PatientID, ds.PatientName, ds.AccessionNumber = "MRN-0042", "DOE^JANE", "ACC-7"
    client = DICOMwebClient(
        url=f"{live_server.url}/dicom-web", headers={"Authorization": f"Token {token}"}
    )

    answer = client.store_instances([ds])

    assert "FailedSOPSequence" not in answer
    assert answer.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
    capture = Capture.objects.get()
    capture = wait_for_status(str(capture.id), "archived", "rejected", "failed", timeout=120)
    assert capture.status == "archived", capture.reason
    [instance] = capture.instances.all()  # what the archive got: the device's instance, reconciled
    orthanc_id = hub_stack.find_instance(instance.sop_instance_uid)
    assert orthanc_id, f"{instance.sop_instance_uid} is not in the archive"
    archived = tmp_path / "archived.dcm"
    archived.write_bytes(hub_stack.instance_file(orthanc_id))
    archived_ds = pydicom.dcmread(archived)
    assert archived_ds.PatientID == "MRN-0042"
    assert str(archived_ds.PatientName) == "DOE^JANE"
    assert archived_ds.AccessionNumber == "ACC-7"
    assert archived_ds.SOPInstanceUID == ds.SOPInstanceUID  # the device's own instance


def test_a_wic_photo_is_archived_with_the_metadata_identity_and_body_site(
    live_server,
    hub_stack: OrthancPeer,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    token = api_client_for("wic-app", Role.CAPTURER).token  # type: ignore[attr-defined]
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    metadata = [dataset(VL_PHOTO, "bulk/photo", **LOWER_LEG_LEFT)]

    response = post_wic(
        live_server, token, metadata, [("bulk/photo", "image/jpeg", jpeg)], query="?specialty=wound"
    )

    assert response.status_code == 200, response.text
    capture = wait_for_status(
        str(Capture.objects.get().id), "archived", "rejected", "failed", timeout=120
    )
    assert capture.status == "archived", capture.reason
    orthanc_id = hub_stack.find_instance(capture.sop_instance_uid)
    assert orthanc_id, f"{capture.sop_instance_uid} is not in the archive"
    archived = tmp_path / "archived.dcm"
    archived.write_bytes(hub_stack.instance_file(orthanc_id))
    ds = pydicom.dcmread(archived)
    assert ds.SOPClassUID == VL_PHOTO
    assert (ds.PatientID, str(ds.PatientName), ds.AccessionNumber) == (
        "MRN-0042",
        "DOE^JANE",
        "ACC-7",
    )
    assert ds.AnatomicRegionSequence[0].CodeValue == "30021000"
    assert ds.ImageLaterality == "L"


VIDEO_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1.1"
VL_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1"
MPEG4_SYNTAXES = ("1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103")


def test_a_wic_video_and_png_still_are_archived_as_endoscopy_objects(
    live_server,
    hub_stack: OrthancPeer,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    token = api_client_for("wic-tower", Role.CAPTURER).token  # type: ignore[attr-defined]
    video = make_h264(tmp_path / "scope.mp4", seconds=1.0).read_bytes()
    still = make_png(tmp_path / "still.png", width=96, height=64).read_bytes()
    metadata = [dataset(VIDEO_ENDOSCOPIC, "bulk/video"), dataset(VL_ENDOSCOPIC, "bulk/still")]

    response = post_wic(
        live_server,
        token,
        metadata,
        [("bulk/still", "image/png", still), ("bulk/video", "video/mp4", video)],
    )

    assert response.status_code == 200, response.text
    by_type = {c.mime_type: c for c in Capture.objects.all()}
    archived = {
        kind: wait_for_status(str(by_type[kind].id), "archived", "rejected", "failed", timeout=180)
        for kind in ("video/mp4", "image/png")
    }
    for capture in archived.values():
        assert capture.status == "archived", capture.reason
        assert capture.context["specialty"] == "endoscopy"  # from the SOP class
    files = {}
    for kind, capture in archived.items():
        orthanc_id = hub_stack.find_instance(capture.sop_instance_uid)
        assert orthanc_id, f"{kind} {capture.sop_instance_uid} is not in the archive"
        files[kind] = tmp_path / f"{capture.id}.dcm"
        files[kind].write_bytes(hub_stack.instance_file(orthanc_id))
    clip = pydicom.dcmread(files["video/mp4"])
    assert clip.SOPClassUID == VIDEO_ENDOSCOPIC
    assert clip.file_meta.TransferSyntaxUID in MPEG4_SYNTAXES
    assert int(clip.NumberOfFrames) > 1
    assert clip.PatientID == "MRN-0042"
    photo = pydicom.dcmread(files["image/png"])
    assert photo.SOPClassUID == VL_ENDOSCOPIC
    assert (photo.Rows, photo.Columns) == (64, 96)
    assert photo.PatientID == "MRN-0042"
    for path in files.values():
        assert dciodvfy_errors(path) == []
