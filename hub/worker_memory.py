"""A Celery worker process keeps the memory one task frees for the next task.

A photo's steps allocate and free large blocks: libjpeg-turbo's coefficient
arrays for the lossless turn (about 73 MB for 12 MP), the reduced decode and
OpenCV's images for faces and the marker. glibc gives such blocks back to the
kernel as soon as they are freed (mapped on their own above its mmap threshold,
trimmed off the heap's top above its trim threshold), so the next photo faults
every page in again and the kernel zero-fills it: on the project's machine
about 18,000 page faults and 45-85 ms of system time for one turn of a rotated
12 MP photo that takes about 100 ms of user time. With both thresholds raised
the pages stay with the process: a worker's resident size stays at its peak
between tasks instead of falling back, and the peak itself does not rise.
Blocks larger than the mmap threshold are still mapped on their own and given
back (a video is streamed, never held whole).
"""

from __future__ import annotations

import ctypes
import platform

# The most glibc's own moving threshold reaches on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 << 20
# Free memory at the heap's top kept instead of trimmed.
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Raise glibc malloc's thresholds for this process; False where the C library
    is not glibc (musl, macOS), whose allocators this does not concern."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    # mallopt answers 1 when it took the value; setting either also stops glibc
    # from moving the thresholds by itself.
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
