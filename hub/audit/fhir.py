"""Audit events as FHIR R4 AuditEvent resources, following IHE Basic Audit Log Patterns (BALP).

BALP (https://profiles.ihe.net/ITI/BALP/): a RESTful access is type `rest`
with the interaction as subtype; a sign-in is DICOM's User Authentication
(110114) with Login (110122); a delivery to a destination is DICOM's Export
(110106), and so is each failed try before its end (`delivery.attempt`),
with the destination as an agent in the Destination Role (110152). Each
event names its requester (agent, with the network address), the hub as
observer (source), the capture it concerns (entity, its id as a URN and its
API path) and the patient (entity, role Patient, by identifier).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hub.audit.models import AuditEvent

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/"
OBSERVER = "capture hub"

# action prefix -> (FHIR action code C/R/U/D/E, RESTful interaction, BALP profile)
_KINDS: dict[str, tuple[str, str, str]] = {
    "capture.create": ("C", "create", "IHE.BasicAudit.Create"),
    "capture.read": ("R", "read", "IHE.BasicAudit.Read"),
    "capture.media.read": ("R", "read", "IHE.BasicAudit.Read"),
    "capture.delete": ("D", "delete", "IHE.BasicAudit.Delete"),
    "capture.purge": ("D", "delete", "IHE.BasicAudit.Delete"),
    "patient.": ("E", "search", "IHE.BasicAudit.PatientQuery"),
    "token.issue": ("C", "create", "IHE.BasicAudit.Create"),
    "token.revoke": ("D", "delete", "IHE.BasicAudit.Delete"),
    "device.code.issue": ("C", "create", "IHE.BasicAudit.Create"),
    "device.enroll": ("E", "create", "IHE.BasicAudit.Create"),
}
_UPDATE = ("U", "update", "IHE.BasicAudit.Update")  # the pipeline's and operators' changes
# Not RESTful accesses: a delivery is DICOM's Export (PS3.15 A.5.3.6, EventActionCode R).
_DICOM_KINDS: dict[str, tuple[str, str, str]] = {
    "delivery": ("R", "110106", "Export"),
    "delivery.attempt": ("R", "110106", "Export"),
}
DESTINATION_PREFIX = "destination:"


def audit_event_resource(
    event: AuditEvent, *, capture_url: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """The event as a FHIR R4 AuditEvent (a dict ready for JSON)."""
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "recorded": event.at.isoformat(),
        "outcome": event.outcome,
        "agent": [_requester(event)],
        "source": {
            "observer": {"display": OBSERVER},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
    }
    if event.action == "sign-in":
        resource["meta"] = {"profile": [BALP + "IHE.BasicAudit.Login"]}
        resource["type"] = {"system": DCM, "code": "110114", "display": "User Authentication"}
        resource["subtype"] = [{"system": DCM, "code": "110122", "display": "Login"}]
        resource["action"] = "E"
    elif event.action in _DICOM_KINDS:
        action, code, display = _DICOM_KINDS[event.action]
        resource["type"] = {"system": DCM, "code": code, "display": display}
        resource["action"] = action
        if event.entity.startswith(DESTINATION_PREFIX):
            resource["agent"].append(_destination(event.entity.removeprefix(DESTINATION_PREFIX)))
    else:
        action, interaction, profile = _kind(event.action)
        resource["meta"] = {"profile": [BALP + profile]}
        resource["type"] = {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
        resource["subtype"] = [{"system": RESTFUL, "code": interaction}]
        resource["action"] = action
    entities = []
    if event.capture_id:
        what: dict[str, Any] = {"identifier": {"value": f"urn:uuid:{event.capture_id}"}}
        if capture_url:
            what["display"] = capture_url(str(event.capture_id))
        entities.append(
            {"what": what, "type": {"system": ENTITY_TYPE, "code": "2"}, "name": event.action}
        )
    elif event.entity:
        entities.append(
            {"what": {"display": event.entity}, "type": {"system": ENTITY_TYPE, "code": "2"}}
        )
    if event.patient:
        entities.append(
            {
                "what": {"identifier": {"value": event.patient}},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    if entities:
        resource["entity"] = entities
    if event.note:
        resource["outcomeDesc"] = event.note[:1000]
    return resource


def audit_bundle(
    events: Iterable[AuditEvent], *, capture_url: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """A FHIR searchset Bundle of the events' AuditEvent resources."""
    entries = [
        {
            "fullUrl": f"urn:uuid:audit-event-{e.id}",
            "resource": audit_event_resource(e, capture_url=capture_url),
        }
        for e in events
    ]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def audit_resources(
    events: Iterable[AuditEvent], *, capture_url: Callable[[str], str] | None = None
) -> Iterator[dict[str, Any]]:
    for event in events:
        yield audit_event_resource(event, capture_url=capture_url)


def _kind(action: str) -> tuple[str, str, str]:
    for prefix, kind in _KINDS.items():
        if action == prefix or (prefix.endswith(".") and action.startswith(prefix)):
            return kind
    return _UPDATE


def _destination(name: str) -> dict[str, Any]:
    """The receiving side of an export (PS3.15 A.5.3.6: Destination Role ID)."""
    return {
        "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
        "who": {"display": name},
        "requestor": False,
    }


def _requester(event: AuditEvent) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "who": {"display": event.actor_name or OBSERVER},
        "requestor": bool(event.actor_name),
    }
    if event.actor_id:
        agent["who"]["identifier"] = {"value": str(event.actor_id)}
    if event.address:
        agent["network"] = {"address": event.address, "type": "2"}
    return agent
