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
from tests.hub.delivery.photos import write_photo
from tests.media import make_jpeg
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
