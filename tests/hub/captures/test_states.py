"""A capture's status moves only along the transition table, through one function."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import (
    NEXT_STEP,
    TRANSITIONS,
    TransitionRefused,
    capture_move,
    capture_update,
)
from tests.hub.factories import received_capture

S = CaptureStatus
ROOT = Path(__file__).resolve().parents[3]


def test_every_state_has_a_row_and_the_two_that_need_a_person_are_reachable() -> None:
    assert set(TRANSITIONS) == set(CaptureStatus)
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    assert {S.REJECTED, S.FAILED, S.UNMATCHED, S.ARCHIVED} <= reachable
    assert TRANSITIONS[S.REJECTED] == frozenset()
    # A working state's step always moves it somewhere.
    assert all(TRANSITIONS[state] for state in NEXT_STEP)


@pytest.mark.django_db
def test_an_allowed_move_writes_the_status_releases_the_lease_and_touches_updated_at(
    tmp_path: Path,
) -> None:
    capture = received_capture(tmp_path)
    long_ago = timezone.now() - timedelta(hours=1)
    Capture.objects.filter(id=capture.id).update(
        lease_until=timezone.now() + timedelta(minutes=5), updated_at=long_ago
    )

    assert capture_move(capture.id, source=S.RECEIVED, target=S.REJECTED, reason="truncated")

    capture.refresh_from_db()
    assert (capture.status, capture.reason, capture.lease_until) == (S.REJECTED, "truncated", None)
    assert capture.updated_at > long_ago


@pytest.mark.django_db
def test_a_move_from_a_state_the_capture_has_left_writes_nothing(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)

    assert not capture_move(capture.id, source=S.MATCHED, target=S.ENCAPSULATED)

    capture.refresh_from_db()
    assert capture.status == S.RECEIVED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"),
    [(S.RECEIVED, S.ARCHIVED), (S.REJECTED, S.INSPECTED), (S.ENCAPSULATED, S.ARCHIVED)],
)
def test_a_move_the_table_does_not_allow_is_refused_and_writes_nothing(
    tmp_path: Path, source: CaptureStatus, target: CaptureStatus
) -> None:
    capture = received_capture(tmp_path)
    Capture.objects.filter(id=capture.id).update(status=source)

    with pytest.raises(TransitionRefused):
        capture_move(capture.id, source=source, target=target)

    capture.refresh_from_db()
    assert capture.status == source


@pytest.mark.django_db
def test_other_fields_are_written_without_the_status_and_keep_updated_at_true(
    tmp_path: Path,
) -> None:
    capture = received_capture(tmp_path)
    long_ago = timezone.now() - timedelta(hours=1)
    Capture.objects.filter(id=capture.id).update(updated_at=long_ago)

    capture_update(capture.id, reason="waiting for the EMR", match_attempts=2)
    with pytest.raises(TransitionRefused):
        capture_update(capture.id, status=S.ARCHIVED)

    capture.refresh_from_db()
    assert (capture.status, capture.reason, capture.match_attempts) == (
        S.RECEIVED,
        "waiting for the EMR",
        2,
    )
    assert capture.updated_at > long_ago


def _writes_status(call: ast.Call) -> bool:
    """`.update(status=...)` or `.create(status=...)` on a Capture queryset."""
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr in {"update", "create", "update_or_create"}
        and any(keyword.arg == "status" for keyword in call.keywords)
        and "Capture.objects" in ast.unparse(call.func.value)
    )


def test_only_the_states_module_writes_a_capture_status() -> None:
    writers = []
    for path in sorted((ROOT / "hub").rglob("*.py")):
        if "migrations" in path.parts or path.name == "states.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        writers += [
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _writes_status(node)
        ]
    assert writers == []
