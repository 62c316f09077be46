"""The integration tests drive the real stack; its fixtures live in tests/conftest.py."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.local_setup import RECORD

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def data_dir_record_kept() -> Iterator[None]:
    """A test that runs `make run` or `hub.launch` leaves the checkout's record as it was."""
    record = ROOT / RECORD
    before = record.read_text() if record.exists() else None
    yield
    if before is None:
        record.unlink(missing_ok=True)
    else:
        record.write_text(before)
