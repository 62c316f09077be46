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
    S.RECEIVED: frozenset({S.INSPECTED, S.REJECTED}),  # inspect
    S.INSPECTED: frozenset({S.MATCHED, S.UNMATCHED}),  # match
    S.MATCHED: frozenset({S.ENCAPSULATED, S.REJECTED}),  # encapsulate
    # An operator names the patient (matched again) or rejects the capture.
    S.UNMATCHED: frozenset({S.INSPECTED, S.REJECTED}),
    S.ENCAPSULATED: frozenset({S.DELIVERING}),  # deliver
    S.DELIVERING: frozenset({S.ARCHIVED, S.FAILED}),
    # An operator retries a failed delivery, or corrects the identity (matched again).
    S.FAILED: frozenset({S.DELIVERING, S.INSPECTED}),
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

    The lease is released with the move unless `fields` sets one.
    """
    sources = [CaptureStatus(source)] if isinstance(source, str) else [*map(CaptureStatus, source)]
    for one in sources:
        if target not in TRANSITIONS[one]:
            raise TransitionRefused(f"a capture cannot move from {one} to {target}")
    if "status" in fields:
        raise TransitionRefused("give the new status as `target`")
    fields.setdefault("lease_until", None)
    moved = Capture.objects.filter(id=capture_id, status__in=sources).update(
        status=target, updated_at=timezone.now(), **fields
    )
    return moved == 1


def capture_update(capture_id: UUID | str, **fields: Any) -> None:
    """Writes fields other than the status (a reason, a lease, attempts)."""
    if "status" in fields:
        raise TransitionRefused("a capture's status changes through capture_move only")
    Capture.objects.filter(id=capture_id).update(updated_at=timezone.now(), **fields)
