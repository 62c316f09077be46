"""A capture filed under the wrong patient, corrected after delivery (IHE IOCM)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent
from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Withdrawal, WithdrawalStatus
from hub.pipeline.operators import capture_correct
from tests.media import make_jpeg
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_withdrawal(capture_id: str, timeout: float = 60) -> Withdrawal:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        withdrawal = Withdrawal.objects.filter(capture_id=capture_id).first()
        if withdrawal and withdrawal.status != WithdrawalStatus.PENDING:
            return withdrawal
        time.sleep(0.2)
    raise AssertionError("the old instance was not withdrawn in time")


def archived_under_the_wrong_patient(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> dict:
    """A wound photo sent under MRN-WRONG (ROE^RICHARD), archived in Orthanc: the API's answer."""
    photo = BytesIO(make_jpeg(tmp_path / "wound.jpg", width=320, height=240).read_bytes())
    photo.name = "wound.jpg"
    wrong = {"patient": {"id": "MRN-WRONG", "name": "ROE^RICHARD"}, "specialty": "wound"}
    created = capturer_client.post(
        "/api/v1/captures",
        {"file": photo, "context": json.dumps(wrong)},
        format="multipart",
    ).json()
    wait_for_status(created["id"], "archived")
    assert hub_stack.find_instance(created["dicom"]["sop_instance_uid"])
    return created


def test_a_correction_after_delivery_withdraws_the_wrong_instance(
    hub_stack: OrthancPeer,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
) -> None:
    created = archived_under_the_wrong_patient(
        hub_stack, capturer_client, wait_for_status, tmp_path
    )
    old_uid = created["dicom"]["sop_instance_uid"]
    operator = user_create_or_update(username="it-ops", role=Role.OPERATOR)

    right = {"patient": {"id": "MRN-RIGHT", "name": "DOE^JANE"}, "specialty": "wound"}
    capture_correct(capture_id=created["id"], actor=operator, context_data=right, note="ticket 42")

    capture = wait_for_status(created["id"], "archived", "failed", timeout=90)
    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    assert capture.sop_instance_uid != old_uid
    new_id = hub_stack.find_instance(capture.sop_instance_uid)
    assert new_id
    assert pydicom.dcmread(BytesIO(hub_stack.instance_file(new_id))).PatientID == "MRN-RIGHT"

    withdrawal = wait_for_withdrawal(created["id"])
    assert withdrawal.status == WithdrawalStatus.DONE, withdrawal.last_error
    assert hub_stack.find_instance(old_uid) is None  # deleted at the Orthanc
    note_id = hub_stack.find_instance(withdrawal.note_sop_instance_uid)
    assert note_id, "the IOCM rejection note is in the archive"
    note = pydicom.dcmread(BytesIO(hub_stack.instance_file(note_id)))
    assert note.ConceptNameCodeSequence[0].CodeValue == "113037"  # patient safety
    assert note.PatientID == "MRN-WRONG"  # it lives in the wrong patient's study
    referenced = note.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert referenced.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == old_uid
    actions = list(
        AuditEvent.objects.filter(capture_id=created["id"]).values_list("action", flat=True)
    )
    assert "corrected" in actions and "withdrawn" in actions
