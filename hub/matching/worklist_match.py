"""Resolving a capture against the DICOM Modality Worklist (PS3.4 K.6).

For departments whose orders live in a worklist (endoscopy, POCUS): a capture
naming an accession number is checked against its worklist entry, and a
device capture without patient context is matched by scheduled station and
time. An ambiguity, or no entry at all, is a refusal with candidates.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from encapsulate import CaptureContext, Order, Patient
from hub.dimse.worklist import WorklistClient, WorklistItem, WorklistQuery, items_in_window
from hub.matching.resolve import Resolution, names_agree


def _item_json(item: WorklistItem) -> dict[str, Any]:
    step = item.scheduled_step
    return {
        "kind": "worklist",
        "id": f"accession:{item.accession_number}",
        "accession_number": item.accession_number,
        "issuer": item.accession_number_issuer,
        "description": item.requested_procedure_description or step.description,
        "start": step.start.isoformat() if step.start else None,
        "patient": {
            "id": item.patient_id,
            "issuer": item.issuer_of_patient_id,
            "name": item.patient_name,
            "birth_date": item.patient_birth_date.isoformat() if item.patient_birth_date else None,
            "sex": item.patient_sex,
        },
        "study_instance_uid": item.study_instance_uid,
        "requested_procedure_id": item.requested_procedure_id,
        "scheduled_procedure_step_id": item.scheduled_step.step_id,
    }


def _from_item(context: CaptureContext, item: WorklistItem) -> CaptureContext:
    patient = Patient(
        id=item.patient_id or "",
        issuer=item.issuer_of_patient_id or (context.patient.issuer if context.patient else None),
        name=item.patient_name or None,
        birth_date=item.patient_birth_date,
        sex=item.patient_sex if item.patient_sex in ("M", "F", "O") else None,
    )
    order = Order(
        accession_number=item.accession_number,
        issuer=item.accession_number_issuer or (context.order.issuer if context.order else None),
        service_request=context.order.service_request if context.order else None,
        study_instance_uid=item.study_instance_uid,
        # The scheduled step the capture fulfils: Request Attributes (PS3.3 10.9) name it.
        requested_procedure_id=item.requested_procedure_id,
        scheduled_procedure_step_id=item.scheduled_step.step_id,
    )
    return dataclasses.replace(context, patient=patient, order=order)


def _wall_clock(moment: datetime) -> datetime:
    """The worklist's DA/TM carry no zone: compare in the hub's own (HUB_TIME_ZONE)."""
    return timezone.localtime(moment).replace(tzinfo=None)


def resolve_with_worklist(
    context: CaptureContext, *, worklist: WorklistClient, captured_at: datetime, window: timedelta
) -> Resolution:
    """Raises WorklistUnavailable when the worklist cannot be asked (the caller waits)."""
    if context.patient is None:
        return _by_station(context, worklist, captured_at, window)
    if context.order is None or not context.order.accession_number:
        return Resolution(context)  # encounter-based, demographics as given
    found = worklist.find(WorklistQuery(accession_number=context.order.accession_number))
    if not found:
        return Resolution(None, f"no worklist entry has accession {context.order.accession_number}")
    item = found[0]
    if item.patient_id != context.patient.id:
        return Resolution(
            None,
            f"accession {item.accession_number} is scheduled for patient {item.patient_id}, "
            f"not {context.patient.id}",
            candidates=[_item_json(i) for i in found],
        )
    sent = context.patient
    if sent.birth_date and item.patient_birth_date and sent.birth_date != item.patient_birth_date:
        return Resolution(
            None,
            f"birth date {sent.birth_date.isoformat()} sent for {sent.id}, but the worklist "
            f"has {item.patient_birth_date.isoformat()}",
        )
    if sent.name and item.patient_name and not names_agree(sent.name, item.patient_name):
        return Resolution(
            None, f"name {sent.name} sent for {sent.id}, but the worklist has {item.patient_name}"
        )
    return Resolution(_from_item(context, item))


def _by_station(
    context: CaptureContext, worklist: WorklistClient, captured_at: datetime, window: timedelta
) -> Resolution:
    device = context.device
    assert device is not None
    at = _wall_clock(captured_at)
    query = WorklistQuery.around(
        at, window, station_aet=device.station_aet, modality=device.modality
    )
    items = items_in_window(worklist.find(query), at, window)
    minutes = int(window.total_seconds() // 60)
    if not items:
        return Resolution(
            None,
            f"no worklist entry for station {device.station_aet} within {minutes} minutes "
            f"of {at:%Y-%m-%d %H:%M}",
        )
    if len(items) > 1:
        return Resolution(
            None,
            f"{len(items)} worklist entries for station {device.station_aet} within "
            f"{minutes} minutes of {at:%Y-%m-%d %H:%M}; choose one",
            candidates=[_item_json(i) for i in items],
        )
    return Resolution(_from_item(context, items[0]))
