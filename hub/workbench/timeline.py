"""A capture's whole life as one timeline, and the history of its identity.

Built from what the hub already keeps: the audit trail (receipt, views,
matching decisions, each try of each delivery, corrections, withdrawals) and
the rows of the steps (instances written, deliveries, withdrawals, the EMR
notice). The steps that
leave no time of their own (the inspection, the match when nothing changed)
are placed after the step before them and shown without a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.audit.models import AuditEvent, Outcome
from hub.captures.models import Capture

# How the audit trail's actions read on the timeline; others show as recorded.
ACTION_LABELS = {
    "capture.create": "received",
    "capture.read": "viewed",
    "capture.media.read": "media viewed",
    "capture.delete": "deleted",
    "context-resolved": "matched: identity filled from the EMR",
    "unmatched": "not matched: waits for an operator",
    "match-again": "matched again (operator)",
    "reassigned": "reassigned (operator)",
    "corrected": "corrected (operator)",
    "rejected": "rejected (operator)",
    "withdrawn": "old instances withdrawn at the archive",
    "withdrawal-failed": "withdrawal failed",
}
# Audit actions that each record one try of a delivery: the failed tries before
# its end, and the try that ended it (delivered, or given up).
DELIVERY_ACTIONS = ("delivery.attempt", "delivery")
# Audit actions that change who or what the capture is filed under.
IDENTITY_ACTIONS = ("context-resolved", "reassigned", "corrected")
# What an identity is made of, as shown and compared.
IDENTITY_FIELDS = (
    "patient id",
    "issuer",
    "name",
    "birth date",
    "sex",
    "accession",
    "encounter",
)


@dataclass(frozen=True)
class Moment:
    at: datetime | None  # None: the hub keeps no time for this step
    what: str
    detail: str = ""
    who: str = ""
    # Where an entry without a time of its own belongs.
    order: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IdentityChange:
    at: datetime
    who: str
    why: str
    identity: dict[str, str]
    changed: tuple[str, ...]  # the IDENTITY_FIELDS that differ from the entry before


def identity_of(context: dict[str, Any] | None) -> dict[str, str]:
    context = context or {}
    patient = context.get("patient") or {}
    order = context.get("order") or {}
    encounter = context.get("encounter") or {}
    values = (
        patient.get("id"),
        patient.get("issuer"),
        patient.get("name"),
        patient.get("birth_date"),
        patient.get("sex"),
        order.get("accession_number") or order.get("service_request"),
        encounter.get("id"),
    )
    return {name: str(value or "") for name, value in zip(IDENTITY_FIELDS, values, strict=True)}


def client_sent(capture: Capture, events: list[AuditEvent]) -> dict[str, Any] | None:
    """What the client sent: kept once at receipt; for captures received before the
    hub kept it, the context before the first change on record, else the first match's."""
    if capture.received_context is not None:
        return capture.received_context
    for event in events:
        if event.action in IDENTITY_ACTIONS and event.before:
            # A correction's `before` holds the context beside the old SOP Instance UID.
            return event.before.get("context", event.before)
    report = capture.match_report or {}
    return report.get("client") or capture.context


def identity_history(capture: Capture, events: list[AuditEvent]) -> list[IdentityChange]:
    """The identity as received, then each change: who, when, why, and what changed."""
    first = identity_of(client_sent(capture, events))
    history = [
        IdentityChange(
            at=capture.created_at,
            who=_user_name(capture.created_by),
            why="as the client sent it",
            identity=first,
            changed=(),
        )
    ]
    for event in events:
        if event.action not in IDENTITY_ACTIONS or event.after is None:
            continue
        identity = identity_of(event.after.get("context", event.after))
        before = history[-1].identity
        changed = tuple(name for name in IDENTITY_FIELDS if identity[name] != before[name])
        if not changed:
            continue
        history.append(
            IdentityChange(
                at=event.at,
                who=event.actor_name or _user_name(event.actor) or "hub",
                why=event.note or ACTION_LABELS.get(event.action, event.action),
                identity=identity,
                changed=changed,
            )
        )
    return history


def capture_timeline(capture: Capture, events: list[AuditEvent]) -> list[Moment]:
    """Every moment of the capture's life on record, oldest first."""
    moments = [
        _attempt_moment(event) if event.action in DELIVERY_ACTIONS else _audit_moment(event)
        for event in events
    ]
    if not any(event.action == "capture.create" for event in events):
        moments.append(
            Moment(
                capture.created_at,
                "received",
                _receipt_detail(capture),
                _user_name(capture.created_by),
            )
        )
    else:
        moments = [
            Moment(
                m.at, m.what, "; ".join(p for p in (m.detail, _receipt_detail(capture)) if p), m.who
            )
            if m.what == "received"
            else m
            for m in moments
        ]
    if capture.media_info:
        moments.append(
            Moment(None, "inspected", _media_detail(capture), "hub", order=capture.created_at)
        )
    instances = list(capture.instances.all())
    match = _match_moment(capture, events, before=instances[0].created_at if instances else None)
    if match is not None:
        moments.append(match)
    for instance in instances:
        kind = "derived object" if instance.derived else "DICOM instance"
        moments.append(
            Moment(
                instance.created_at,
                "encapsulated",
                f"{kind} {instance.sop_instance_uid} ({instance.size} bytes)",
                "hub",
            )
        )
    attempted = {(e.after or {}).get("destination") for e in events if e.action in DELIVERY_ACTIONS}
    for delivery in capture.deliveries.all():
        moments.extend(
            _delivery_moments(delivery, tries_on_record=delivery.destination in attempted)
        )
    for withdrawal in capture.withdrawals.all():
        moments.append(
            Moment(
                withdrawal.created_at,
                "withdrawal planned",
                f"{withdrawal.sop_instance_uid} ({withdrawal.reason}), {withdrawal.status}"
                + (f": {withdrawal.last_error}" if withdrawal.last_error else ""),
                "hub",
            )
        )
    if capture.emr_notice:
        moments.append(
            Moment(None, "EMR write-back", capture.emr_notice, "hub", order=capture.updated_at)
        )
    return sorted(moments, key=lambda m: m.at or m.order or capture.updated_at)


def _audit_moment(event: AuditEvent) -> Moment:
    detail = event.note
    if event.outcome != "0":
        detail = f"{event.get_outcome_display()}: {detail}"
    return Moment(
        event.at,
        ACTION_LABELS.get(event.action, event.action),
        detail,
        event.actor_name or _user_name(event.actor) or "hub",
    )


def _attempt_moment(event: AuditEvent) -> Moment:
    """One try of a delivery: when, to where, how it went and why."""
    about = event.after or {}
    if not about.get("destination"):
        return _audit_moment(event)  # recorded before the hub kept each try
    if event.outcome == Outcome.SUCCESS:
        outcome = "delivered"
    elif event.action == "delivery.attempt":
        outcome = "failed, tried again"
    else:
        outcome = "failed, given up"
    return Moment(
        event.at,
        f"delivery attempt {about.get('attempt', '?')} to {about['destination']}: {outcome}",
        about.get("reason", ""),
        "hub",
    )


def _match_moment(
    capture: Capture, events: list[AuditEvent], *, before: datetime | None
) -> Moment | None:
    """How the capture was matched, when its match report says and no audit event does."""
    report = capture.match_report or {}
    if not report.get("resolved") or any(e.action == "context-resolved" for e in events):
        return None
    if report.get("emr_patient"):
        how = f"against the EMR (Patient/{report['emr_patient'].get('id', '?')})"
    elif any(c.get("kind") == "worklist" for c in report.get("candidates") or []):
        how = "against the worklist"
    else:
        how = "as the client gave it (no EMR or worklist checked it)"
    accession = ((report.get("resolved") or {}).get("order") or {}).get("accession_number")
    detail = how + (f"; order {accession}" if accession else "")
    return Moment(None, "matched", detail, "hub", order=before or capture.updated_at)


def _delivery_moments(delivery: Any, *, tries_on_record: bool) -> list[Moment]:
    """The delivery as its row keeps it; its end too, unless its tries are on record."""
    tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    moments = [
        Moment(
            delivery.created_at,
            f"delivery to {delivery.destination}",
            f"{delivery.status}, {tries}"
            + (f"; last error: {delivery.last_error}" if delivery.last_error else "")
            + (
                f"; next attempt {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}"
                if delivery.next_attempt_at
                else ""
            ),
            "hub",
        )
    ]
    if delivery.delivered_at and not tries_on_record:
        moments.append(
            Moment(
                delivery.delivered_at,
                f"delivered to {delivery.destination}",
                f"after {tries}" + (f"; {delivery.retrieve_url}" if delivery.retrieve_url else ""),
                "hub",
            )
        )
    return moments


def _receipt_detail(capture: Capture) -> str:
    parts = [f"{capture.original_name or 'unnamed'}, {capture.original_size} bytes"]
    if capture.session_id:
        parts.append(f"session {capture.session_id}")
    if capture.identity_unverified:
        parts.append("identity not verified against an EMR")
    return "; ".join(parts)


def _media_detail(capture: Capture) -> str:
    info = capture.media_info or {}
    size = f"{info['width']}x{info['height']}" if info.get("width") and info.get("height") else ""
    return ", ".join(part for part in (capture.mime_type, size) if part)


def _user_name(user: Any) -> str:
    return getattr(user, "username", "") or ""
