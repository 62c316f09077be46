"""A transactional test's flush is tried again when PostgreSQL aborts it to break a deadlock."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import OperationalError

from tests import db_flush


def failing(times: int, cause: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def handle(self: object, **options: object) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise CommandError("Database couldn't be flushed") from cause

    return calls, handle


def test_a_deadlocked_flush_is_tried_again_until_it_goes_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls, handle = failing(2, OperationalError("deadlock detected\nDETAIL: ..."))
    monkeypatch.setattr(db_flush, "_handle", handle)
    monkeypatch.setattr(db_flush, "PAUSE_SECONDS", 0)

    db_flush.handle_retrying_deadlocks(flush.Command())

    assert len(calls) == 3


@pytest.mark.parametrize(
    "cause", [OperationalError("relation does not exist"), ValueError("deadlock detected")]
)
def test_any_other_failure_of_the_flush_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch, cause: Exception
) -> None:
    calls, handle = failing(1, cause)
    monkeypatch.setattr(db_flush, "_handle", handle)

    with pytest.raises(CommandError):
        db_flush.handle_retrying_deadlocks(flush.Command())
    assert len(calls) == 1


def test_a_deadlock_that_does_not_clear_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, handle = failing(99, OperationalError("deadlock detected"))
    monkeypatch.setattr(db_flush, "_handle", handle)
    monkeypatch.setattr(db_flush, "PAUSE_SECONDS", 0)

    with pytest.raises(CommandError):
        db_flush.handle_retrying_deadlocks(flush.Command())
    assert len(calls) == db_flush.ATTEMPTS


def test_the_suite_runs_with_the_retrying_flush() -> None:
    assert flush.Command.handle is db_flush.handle_retrying_deadlocks
