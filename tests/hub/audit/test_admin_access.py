"""The admin's reads and deletes of a capture are on record, with the operator and the patient."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent, Outcome
from hub.captures.models import Capture
from hub.captures.storage import data_path
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


def test_an_admin_delete_is_on_record_outlives_the_capture_and_takes_its_files(
    private_data_dir: Path, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    capture = received_capture(tmp_path, patient_id="MRN-78", inspected=True)
    original = data_path(capture.original_path)
    assert original.is_file()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_for("root", Role.ADMIN).post(
            f"/admin/captures/capture/{capture.id}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Capture.objects.filter(id=capture.id).exists()
    assert not original.exists()
    event = AuditEvent.objects.get(action="capture.delete")
    assert (event.capture_id, event.actor_name, event.patient) == (capture.id, "root", "MRN-78")
    purge = AuditEvent.objects.get(action="capture.purge")
    assert (purge.capture_id, purge.patient) == (capture.id, "MRN-78")
    assert capture.original_path in [entry["path"] for entry in purge.before]


def test_the_admins_bulk_delete_takes_every_selected_captures_files(
    private_data_dir: Path, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    captures = [received_capture(tmp_path / m, patient_id=m) for m in ("MRN-1", "MRN-2")]

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_for("root", Role.ADMIN).post(
            "/admin/captures/capture/",
            {
                "action": "delete_selected",
                "_selected_action": [str(c.id) for c in captures],
                "post": "yes",
            },
        )

    assert response.status_code == 302
    assert not Capture.objects.exists()
    assert not any(data_path(c.original_path).exists() for c in captures)
    assert sorted(
        AuditEvent.objects.filter(action="capture.purge").values_list("patient", flat=True)
    ) == ["MRN-1", "MRN-2"]


def test_the_admins_password_sign_ins_and_failures_are_on_record() -> None:
    user_create_or_update(username="imaging-it", role=Role.OPERATOR, password="a-long-passphrase")
    browser = Client()

    refused = browser.post(
        "/admin/login/?next=/admin/", {"username": "imaging-it", "password": "nope"}
    )
    signed = browser.post(
        "/admin/login/?next=/admin/", {"username": "imaging-it", "password": "a-long-passphrase"}
    )

    assert refused.status_code == 200 and signed.status_code == 302
    trail = list(
        AuditEvent.objects.filter(action="sign-in").values_list(
            "actor_name", "entity", "outcome", "address"
        )
    )
    assert trail == [
        ("anonymous", "admin", Outcome.REFUSED, "127.0.0.1"),
        ("imaging-it", "admin", Outcome.SUCCESS, "127.0.0.1"),
    ]
    assert "imaging-it" in AuditEvent.objects.filter(outcome=Outcome.REFUSED).get().note
