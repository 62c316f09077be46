"""What operators do with captures the hub could not match, or matched wrongly.

Every action is audited (who, when, before, after). None of them guesses:
the operator names the patient, order or encounter, and the match step then
checks it against the EMR like any other capture.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from pydicom.uid import generate_uid

from encapsulate import ContextError, context_to_json, parse_context
from hub.audit.services import audit_record
from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Withdrawal

CORRECTABLE = (CaptureStatus.ARCHIVED, CaptureStatus.FAILED)


class ReconcileRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _locked(capture_id: UUID | str) -> Capture:
    try:
        return Capture.objects.select_for_update().get(id=capture_id)
    except Capture.DoesNotExist:
        raise ReconcileRefused(f"there is no capture {capture_id}") from None


def _validated(context_data: Any) -> dict[str, Any]:
    try:
        return context_to_json(parse_context(context_data))
    except ContextError as error:
        raise ReconcileRefused(error.reason) from None


def _start_matching(capture: Capture) -> None:
    from hub.captures.tasks import match_capture

    transaction.on_commit(lambda: match_capture.delay(str(capture.id)))


def capture_reassign(
    *, capture_id: UUID | str, actor: AbstractBaseUser, context_data: Any, note: str = ""
) -> None:
    """An unmatched capture gets the context the operator gives, and is matched again."""
    with transaction.atomic():
        capture = _locked(capture_id)
        if capture.status != CaptureStatus.UNMATCHED:
            raise ReconcileRefused(
                f"capture {capture.id} is {capture.status}, not unmatched"
                + ("; use a correction instead" if capture.status in CORRECTABLE else "")
            )
        after = _validated(context_data)
        audit_record(
            capture_id=capture.id,
            action="reassigned",
            actor=actor,
            before=capture.context,
            after=after,
            note=note,
        )
        Capture.objects.filter(id=capture.id).update(
            context=after,
            status=CaptureStatus.INSPECTED,
            reason="",
            match_report=None,
            lease_until=None,
            updated_at=timezone.now(),
        )
        _start_matching(capture)


def capture_choose_candidate(
    *, capture_id: UUID | str, actor: AbstractBaseUser, candidate_id: str
) -> None:
    """Pick one of the orders or encounters the match step listed for an unmatched capture."""
    capture = Capture.objects.get(id=capture_id)
    candidates = {c["id"]: c for c in (capture.match_report or {}).get("candidates", [])}
    if candidate_id not in candidates:
        raise ReconcileRefused(f"{candidate_id} is not one of this capture's candidates")
    chosen = candidates[candidate_id]
    context = dict(capture.context)
    if chosen["kind"] == "worklist":
        context["patient"] = chosen["patient"]
        context["order"] = {
            "accession_number": chosen["accession_number"],
            "issuer": chosen.get("issuer"),
            "service_request": None,
            "study_instance_uid": chosen.get("study_instance_uid"),
        }
    elif chosen["kind"] == "order":
        context["order"] = {
            "accession_number": chosen.get("accession_number"),
            "issuer": chosen.get("issuer"),
            "service_request": chosen["id"],
            "study_instance_uid": chosen.get("study_instance_uid"),
        }
    else:
        context["order"] = None
        context["encounter"] = {"id": chosen["id"].removeprefix("Encounter/")}
    capture_reassign(
        capture_id=capture_id, actor=actor, context_data=context, note=f"chose {candidate_id}"
    )


def capture_reject(*, capture_id: UUID | str, actor: AbstractBaseUser, reason: str) -> None:
    """An unmatched capture that belongs nowhere; the original stays for the record."""
    if not reason.strip():
        raise ReconcileRefused("say why the capture is rejected")
    with transaction.atomic():
        capture = _locked(capture_id)
        if capture.status != CaptureStatus.UNMATCHED:
            raise ReconcileRefused(f"capture {capture.id} is {capture.status}, not unmatched")
        audit_record(capture_id=capture.id, action="rejected", actor=actor, note=reason)
        Capture.objects.filter(id=capture.id).update(
            status=CaptureStatus.REJECTED,
            reason=f"rejected by {actor}: {reason}",
            updated_at=timezone.now(),
        )


def capture_correct(
    *, capture_id: UUID | str, actor: AbstractBaseUser, context_data: Any, note: str = ""
) -> None:
    """A delivered capture filed under the wrong patient or order gets a new identity.

    The same content is encapsulated again under new Series and SOP Instance
    UIDs and the new context, delivered, and only then are the old instances
    withdrawn at the archive (see `hub.delivery.withdrawals`).
    """
    with transaction.atomic():
        capture = _locked(capture_id)
        if capture.status not in CORRECTABLE:
            raise ReconcileRefused(
                f"capture {capture.id} is {capture.status}; only archived or failed captures "
                "are corrected (an unmatched one is reassigned)"
            )
        after = _validated(context_data)
        if after == capture.context:
            raise ReconcileRefused("the corrected context is the same as the current one")
        patient_changed = after["patient"]["id"] != capture.context["patient"]["id"]
        reason = "PATIENT_SAFETY" if patient_changed else "INCORRECT_WORKLIST_ENTRY"
        note_series, note_sop = generate_uid(), generate_uid()
        for instance in capture.instances.all():
            Withdrawal.objects.create(
                capture=capture,
                sop_instance_uid=instance.sop_instance_uid,
                sop_class_uid=instance.sop_class_uid,
                study_instance_uid=capture.study_instance_uid,
                path=instance.path,
                reason=reason,
                note_series_instance_uid=note_series,
                note_sop_instance_uid=note_sop,
            )
        audit_record(
            capture_id=capture.id,
            action="corrected",
            actor=actor,
            before={"context": capture.context, "sop_instance_uid": capture.sop_instance_uid},
            after={"context": after},
            note=note,
        )
        capture.instances.all().delete()
        capture.deliveries.all().delete()
        Capture.objects.filter(id=capture.id).update(
            context=after,
            status=CaptureStatus.INSPECTED,
            reason="",
            match_report=None,
            lease_until=None,
            study_instance_uid=(after.get("order") or {}).get("study_instance_uid")
            or generate_uid(),
            series_instance_uid=generate_uid(),
            sop_instance_uid=generate_uid(),
            updated_at=timezone.now(),
        )
        _start_matching(capture)
