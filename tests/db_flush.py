"""A transactional test's flush that survives the stack still writing as it ends.

pytest-django empties the tables after each transactional test with one
TRUNCATE. On PostgreSQL that can deadlock with a write still under way: the
live server answering the capture app's last poll (reads are audited), or the
suite's Celery worker finishing a step. PostgreSQL then aborts one side, and
when it picks the TRUNCATE the next test starts with the last one's rows. The
writer's transaction is short, so the flush is simply tried again.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import OperationalError

ATTEMPTS = 5
PAUSE_SECONDS = 0.5

_handle = flush.Command.handle


def _deadlocked(error: CommandError) -> bool:
    cause = error.__cause__
    return isinstance(cause, OperationalError) and "deadlock detected" in str(cause)


def handle_retrying_deadlocks(self: flush.Command, **options: Any) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _handle(self, **options)
        except CommandError as error:
            if attempt == ATTEMPTS or not _deadlocked(error):
                raise
            time.sleep(PAUSE_SECONDS * attempt)
    return None


def install() -> None:
    flush.Command.handle = handle_retrying_deadlocks  # type: ignore[method-assign]
