"""A capture's states, the moves allowed between them, and the one function that moves it.

Every change of `Capture.status` goes through `capture_move`, which checks the
move against `TRANSITIONS` and makes it with a conditional update: if the
capture is no longer in the state the caller saw, nothing is written and the
caller learns it lost the race. The other fields of a capture are written with
`capture_update`, which keeps `updated_at` true (a `QuerySet.update()` does not
touch `auto_now` fields, and the resume sweep reads `updated_at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus

S = CaptureStatus

# Where each state may go, and who moves it there.
TRANSITIONS: dict[CaptureStatus, frozenset[CaptureStatus]] = {
    # A working state goes to `failed` when its step has used up its attempts.
    S.RECEIVED: frozenset({S.INSPECTED, S.REJECTED, S.FAILED}),  # inspect
    S.INSPECTED: frozenset({S.MATCHED, S.UNMATCHED, S.FAILED}),  # match
    S.MATCHED: frozenset({S.ENCAPSULATED, S.REJECTED, S.FAILED}),  # encapsulate
    # An operator names the patient (matched again) or rejects the capture.
    S.UNMATCHED: frozenset({S.INSPECTED, S.REJECTED}),
    S.ENCAPSULATED: frozenset({S.DELIVERING, S.FAILED}),  # deliver
    S.DELIVERING: frozenset({S.ARCHIVED, S.FAILED}),
    # An operator retries the step that failed (back to where it failed), or
    # corrects the identity (matched again).
    S.FAILED: frozenset({S.RECEIVED, S.INSPECTED, S.MATCHED, S.ENCAPSULATED, S.DELIVERING}),
    S.ARCHIVED: frozenset({S.INSPECTED}),  # a correction after delivery
    S.REJECTED: frozenset(),
}

# The step that moves a capture out of each working state.
NEXT_STEP = {
    S.RECEIVED: "inspect",
    S.INSPECTED: "match",
    S.MATCHED: "encapsulate",
    S.ENCAPSULATED: "deliver",
}


class TransitionRefused(Exception):
    """A move the table does not allow: a bug in the caller, never a race."""


def capture_move(
    capture_id: UUID | str,
    *,
    source: CaptureStatus | str | Iterable[CaptureStatus],
    target: CaptureStatus,
    **fields: Any,
) -> bool:
    """Moves the capture from `source` to `target`; False if it was elsewhere.

    The lease is released and the step's attempts are reset with the move
    unless `fields` sets them. A move to `failed` from one state remembers it
    (`failed_from`), for an operator's retry.
    """
    sources = [CaptureStatus(source)] if isinstance(source, str) else [*map(CaptureStatus, source)]
    for one in sources:
        if target not in TRANSITIONS[one]:
            raise TransitionRefused(f"a capture cannot move from {one} to {target}")
    if "status" in fields:
        raise TransitionRefused("give the new status as `target`")
    fields.setdefault("lease_until", None)
    fields.setdefault("lease_owner", "")
    fields.setdefault("step_attempts", 0)
    fields.setdefault("step_error", "")
    if target == CaptureStatus.FAILED and len(sources) == 1:
        fields.setdefault("failed_from", sources[0])
    moved = Capture.objects.filter(id=capture_id, status__in=sources).update(
        status=target, updated_at=timezone.now(), **fields
    )
    return moved == 1


def capture_update(capture_id: UUID | str, **fields: Any) -> None:
    """Writes fields other than the status (a reason, a lease, attempts).

    A lease written here ends the step's current try cleanly (a wait, such as
    matching's for an EMR that is down): the heartbeat no longer renews it,
    and the try does not count against the step's attempts.
    """
    if "status" in fields:
        raise TransitionRefused("a capture's status changes through capture_move only")
    if "lease_until" in fields:
        fields.setdefault("lease_owner", "")
        fields.setdefault("step_attempts", 0)
    Capture.objects.filter(id=capture_id).update(updated_at=timezone.now(), **fields)
