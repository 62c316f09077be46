"""Recording audit events: one function, called by every part of the hub that touches PHI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from hub.audit.models import AuditEvent, Outcome


def audit_record(
    *,
    action: str,
    capture_id: object = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_name: str | None = None,
    patient: str | None = None,
    entity: str = "",
    address: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    before: Any = None,
    after: Any = None,
    note: str = "",
) -> AuditEvent:
    """Appends one event. `patient` defaults to the capture's (from its context).

    `actor` None is the hub itself; an anonymous user is recorded as such.
    `actor_name` names one who is no user of the hub (`cli:root` at the console).
    """
    if patient is None:
        patient = capture_patient(capture_id) if capture_id else ""
    user = actor if actor is not None and actor.is_authenticated else None
    name = "anonymous" if actor is not None else ""
    if user is not None:
        name = user.get_username()
    if actor_name is not None:
        name = actor_name
    return AuditEvent.objects.create(
        capture_id=capture_id,
        action=action,
        actor=user,
        actor_name=name[:150],
        patient=(patient or "")[:128],
        entity=entity[:255],
        address=address or None,
        outcome=outcome,
        before=before,
        after=after,
        note=note,
    )


def capture_patient(capture_id: object) -> str:
    """The patient identifier in a capture's context (a device capture's station if none)."""
    # Through the relation: the audit layer imports nothing of the captures package.
    captures = AuditEvent._meta.get_field("capture").related_model._default_manager
    context = captures.filter(pk=capture_id).values_list("context", flat=True).first() or {}
    patient = context.get("patient") or {}
    return str(patient.get("id") or "")


def audit_events_since(*, since: datetime, until: datetime | None = None) -> QuerySet[AuditEvent]:
    """Events recorded at or after `since` (and before `until`), oldest first."""
    events = AuditEvent.objects.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    return events.order_by("at", "id")
