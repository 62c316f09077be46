"""A worker process keeps freed memory for its next task (hub/worker_memory.py).

Measured in a fresh interpreter each time, so this test process's own heap
does not matter: a 24 MB block (the size of a 12 MP photo's luma coefficients)
is allocated, written, freed, then allocated and written again; the page
faults of the second round say whether its pages had been given back.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc")

ROUND_TRIP = """
import ctypes, resource
{prepare}
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 24 << 20
block = libc.malloc(size); ctypes.memset(block, 1, size); libc.free(block)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = libc.malloc(size); ctypes.memset(block, 1, size); libc.free(block)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _second_round_faults(prepare: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP.format(prepare=prepare)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_without_it_the_pages_of_a_freed_block_are_faulted_in_again() -> None:
    # glibc's own thresholds: the block was mapped on its own and unmapped.
    assert _second_round_faults("") > 5_000


def test_kept_freed_memory_is_reused_without_page_faults() -> None:
    prepare = "from hub.worker_memory import keep_freed_memory; assert keep_freed_memory()"
    assert _second_round_faults(prepare) < 100


def test_every_celery_pool_process_keeps_freed_memory() -> None:
    prepare = (
        "from celery import signals; import hub.celery; "
        "signals.worker_process_init.send(sender=None)"
    )
    assert _second_round_faults(prepare) < 100
