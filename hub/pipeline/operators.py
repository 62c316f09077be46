"""What an operator does that sets the pipeline going again.

The matching services change an unmatched capture; these start the match
step once that change has committed. A correction of a capture already
delivered spans the whole pipeline: the old instances are planned for
withdrawal (IHE IOCM), the capture gets a new identity and is matched,
encapsulated and delivered again, and only once the corrected copy is archived
are the old instances withdrawn (`hub.delivery.withdrawals`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from pydicom.uid import generate_uid

from encapsulate import RejectionReason
from hub.audit.services import audit_record
from hub.captures.models import CaptureStatus
from hub.captures.states import capture_move
from hub.delivery.models import Delivery
from hub.delivery.services import capture_resend
from hub.delivery.withdrawals import capture_withdrawals_plan
from hub.matching.reconcile import (
    CORRECTABLE,
    ReconcileRefused,
    capture_choose_candidate,
    capture_match_again,
    capture_reassign,
    locked_capture,
    validated_context,
)
from hub.pipeline.tasks import deliver, match_capture, retry_capture_delivery, send


def _match_once_committed(capture_id: UUID | str) -> None:
    transaction.on_commit(lambda: send(match_capture, str(capture_id)))


def capture_reassign_and_match(
    *, capture_id: UUID | str, actor: AbstractBaseUser, context_data: Any, note: str = ""
) -> None:
    """`capture_reassign`, then the match step checks the operator's context."""
    with transaction.atomic():
        capture_reassign(capture_id=capture_id, actor=actor, context_data=context_data, note=note)
        _match_once_committed(capture_id)


def capture_choose_and_match(
    *, capture_id: UUID | str, actor: AbstractBaseUser, candidate_id: str
) -> None:
    """`capture_choose_candidate`, then the match step checks the choice."""
    with transaction.atomic():
        capture_choose_candidate(capture_id=capture_id, actor=actor, candidate_id=candidate_id)
        _match_once_committed(capture_id)


def capture_correct(
    *, capture_id: UUID | str, actor: AbstractBaseUser, context_data: Any, note: str = ""
) -> None:
    """A delivered capture filed under the wrong patient or order gets a new identity.

    The same content is encapsulated again under new Series and SOP Instance
    UIDs and the new context, delivered, and only then are the old instances
    withdrawn at the archive.
    """
    with transaction.atomic():
        capture = locked_capture(capture_id)
        if capture.status not in CORRECTABLE:
            raise ReconcileRefused(
                f"capture {capture.id} is {capture.status}; only archived or failed captures "
                "are corrected (an unmatched one is reassigned)"
            )
        after = validated_context(context_data)
        if after == capture.context:
            raise ReconcileRefused("the corrected context is the same as the current one")
        patient_changed = after["patient"]["id"] != capture.context["patient"]["id"]
        reason = (
            RejectionReason.PATIENT_SAFETY
            if patient_changed
            else RejectionReason.INCORRECT_WORKLIST_ENTRY
        )
        capture_withdrawals_plan(capture=capture, reason=reason)
        audit_record(
            capture_id=capture.id,
            action="corrected",
            actor=actor,
            before={"context": capture.context, "sop_instance_uid": capture.sop_instance_uid},
            after={"context": after},
            note=note,
        )
        capture.instances.all().delete()
        capture_move(
            capture.id,
            source=capture.status,
            target=CaptureStatus.INSPECTED,
            context=after,
            reason="",
            match_report=None,
            match_attempts=0,
            study_instance_uid=(after.get("order") or {}).get("study_instance_uid")
            or generate_uid(),
            series_instance_uid=generate_uid(),
            sop_instance_uid=generate_uid(),
            # The old SR is withdrawn with the photo: the new one is minted afresh,
            # or it would come back under the UID the archive was told to reject.
            measurement_uids=None,
            measurement_state="",
            measurement_reason="",
        )
        _match_once_committed(capture.id)


def captures_retry_delivery(capture_ids: list[UUID | str]) -> None:
    """An operator's retry of failed captures: the step each failed at starts again
    with fresh tries, or its failed deliveries start afresh."""
    for capture_id in capture_ids:
        send(retry_capture_delivery, str(capture_id))


def deliveries_resend(delivery_ids: list[int]) -> int:
    """An operator's re-send of chosen deliveries (each one capture to one destination)."""
    sent = 0
    for capture_id, destination in Delivery.objects.filter(id__in=delivery_ids).values_list(
        "capture_id", "destination"
    ):
        send(deliver, capture_resend(capture_id=capture_id, destination=destination))
        sent += 1
    return sent


def capture_resend_to(*, capture_id: UUID | str, destination: str) -> int:
    """Re-sends one capture to one destination (also one it never went to)."""
    delivery_id = capture_resend(capture_id=capture_id, destination=destination)
    send(deliver, delivery_id)
    return delivery_id


def captures_match_again(capture_ids: list[UUID | str], *, actor: AbstractBaseUser) -> int:
    """Matches the unmatched ones among `capture_ids` again; returns how many."""
    again = 0
    for capture_id in capture_ids:
        with transaction.atomic():
            if capture_match_again(capture_id=capture_id, actor=actor):
                _match_once_committed(capture_id)
                again += 1
    return again
