"""The API's accesses on record: who (user or device), what, which patient, from where, outcome."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request

from hub.audit.models import Outcome
from hub.audit.services import audit_record
from hub.captures.models import Capture


def request_address(request: HttpRequest | Request) -> str | None:
    """The client's address as the hub's server saw it (a proxy's, unless it passes REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None


def audit_request(
    request: HttpRequest | Request,
    action: str,
    *,
    capture_id: object = None,
    patient: str | None = None,
    entity: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    actor: object = None,
    note: str = "",
) -> None:
    audit_record(
        action=action,
        capture_id=capture_id,
        actor=actor if actor is not None else request.user,
        patient=patient,
        # The path, never the query string: no identifier rides along into the trail's URL.
        entity=entity if entity is not None else request.path,
        address=request_address(request),
        outcome=outcome,
        note=note,
    )


UNVERIFIED_NOTE = "identity not verified against an EMR"


def capture_create_note(capture: Capture, note: str = "") -> str:
    """The `capture.create` event's note: how it came, and whether its identity is unverified."""
    flag = UNVERIFIED_NOTE if capture.identity_unverified else ""
    return "; ".join(part for part in (note, flag) if part)
