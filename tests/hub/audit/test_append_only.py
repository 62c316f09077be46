"""The audit trail is append-only: the database itself refuses UPDATE and DELETE (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from hub.audit.models import AuditEvent
from hub.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's (a trigger)")
    return audit_record(action="capture.read", patient="MRN-1", note="kept")


def test_an_audit_event_cannot_be_updated(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(note="changed")
    assert AuditEvent.objects.get(pk=event.pk).note == "kept"


def test_an_audit_event_cannot_be_deleted(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_offers_no_change_or_delete(admin_client) -> None:
    response = admin_client.get("/admin/audit/auditevent/")
    assert response.status_code == 200
    assert b"Delete selected" not in response.content
