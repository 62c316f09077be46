"""The admin's reads and deletes of a capture are on record, with the operator and the patient."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent
from hub.captures.models import Capture
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def browser_for(username: str, role: Role) -> Client:
    browser = Client()
    browser.force_login(user_create_or_update(username=username, role=role))
    return browser


def test_an_operator_opening_a_capture_in_the_admin_is_on_record(
    private_data_dir: Path, tmp_path: Path
) -> None:
    capture = received_capture(tmp_path, patient_id="MRN-77")

    page = browser_for("imaging-it", Role.OPERATOR).get(
        f"/admin/captures/capture/{capture.id}/change/"
    )

    assert page.status_code == 200
    event = AuditEvent.objects.get(action="capture.read", capture_id=capture.id)
    assert (event.actor_name, event.patient, event.address) == ("imaging-it", "MRN-77", "127.0.0.1")


def test_an_admin_delete_is_on_record_and_outlives_the_capture(
    private_data_dir: Path, tmp_path: Path
) -> None:
    capture = received_capture(tmp_path, patient_id="MRN-78")

    response = browser_for("root", Role.ADMIN).post(
        f"/admin/captures/capture/{capture.id}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Capture.objects.filter(id=capture.id).exists()
    event = AuditEvent.objects.get(action="capture.delete")
    assert (event.capture_id, event.actor_name, event.patient) == (capture.id, "root", "MRN-78")
