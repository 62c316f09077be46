"""What operators do with captures the hub could not match.

Every action is audited (who, when, before, after). None of them guesses:
the operator names the patient, order or encounter, and the match step then
checks it against the EMR like any other capture. These functions change the
capture only; `hub.pipeline.operators` starts the match step once they have
committed (and holds the correction of a capture already delivered, which
involves delivery too).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from encapsulate import ContextError, context_to_json, parse_context
from hub.audit.services import audit_record
from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import capture_move

CORRECTABLE = (CaptureStatus.ARCHIVED, CaptureStatus.FAILED)


class ReconcileRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def locked_capture(capture_id: UUID | str) -> Capture:
    try:
        return Capture.objects.select_for_update().get(id=capture_id)
    except Capture.DoesNotExist:
        raise ReconcileRefused(f"there is no capture {capture_id}") from None


def validated_context(context_data: Any) -> dict[str, Any]:
    try:
        return context_to_json(parse_context(context_data))
    except ContextError as error:
        raise ReconcileRefused(error.reason) from None


def capture_reassign(
    *, capture_id: UUID | str, actor: AbstractBaseUser, context_data: Any, note: str = ""
) -> None:
    """An unmatched capture gets the context the operator gives, and is matched again."""
    with transaction.atomic():
        capture = locked_capture(capture_id)
        if capture.status != CaptureStatus.UNMATCHED:
            raise ReconcileRefused(
                f"capture {capture.id} is {capture.status}, not unmatched"
                + ("; use a correction instead" if capture.status in CORRECTABLE else "")
            )
        after = validated_context(context_data)
        audit_record(
            capture_id=capture.id,
            action="reassigned",
            actor=actor,
            before=capture.context,
            after=after,
            note=note,
        )
        capture_move(
            capture.id,
            source=CaptureStatus.UNMATCHED,
            target=CaptureStatus.INSPECTED,
            context=after,
            reason="",
            match_report=None,
            match_attempts=0,
        )


def capture_match_again(*, capture_id: UUID | str, actor: AbstractBaseUser) -> bool:
    """An unmatched capture is looked up again as it is: the EMR may be back, or
    the order placed since. False, and nothing written, if it is no longer unmatched.
    """
    with transaction.atomic():
        capture = locked_capture(capture_id)
        if capture.status != CaptureStatus.UNMATCHED:
            return False
        audit_record(
            capture_id=capture.id,
            action="match-again",
            actor=actor,
            note=f"looked up again after: {capture.reason}",
        )
        return capture_move(
            capture.id,
            source=CaptureStatus.UNMATCHED,
            target=CaptureStatus.INSPECTED,
            reason="",
            match_attempts=0,
        )


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
            "requested_procedure_id": chosen.get("requested_procedure_id"),
            "scheduled_procedure_step_id": chosen.get("scheduled_procedure_step_id"),
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
        capture = locked_capture(capture_id)
        if capture.status != CaptureStatus.UNMATCHED:
            raise ReconcileRefused(f"capture {capture.id} is {capture.status}, not unmatched")
        audit_record(capture_id=capture.id, action="rejected", actor=actor, note=reason)
        capture_move(
            capture.id,
            source=CaptureStatus.UNMATCHED,
            target=CaptureStatus.REJECTED,
            reason=f"rejected by {actor}: {reason}",
        )
