"""When a file a device is writing is whole: its done-marker, or a quiet period.

Devices export over SMB/NFS or by copying, and nothing tells a reader that the
writer has closed the file. A profile's done-marker (`NAME.done`) is the
device saying so; without one, a file is taken once its size and mtime have
not changed for the profile's quiet period, measured by this agent's own
clock (a share's mtimes come from another machine's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mobile_client.agent.profiles import Profile


@dataclass(frozen=True)
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time at which this size and mtime were first seen


class CompletenessTracker:
    """Remembers each candidate's last size and mtime between scans of one folder."""

    def __init__(self, profile: Profile, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.profile = profile
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}

    def is_complete(self, path: Path) -> bool:
        """True when the device's marker is there, or the file has been still long enough.

        A file that vanished or is empty is not complete; an empty file may be
        one the device has only just opened.
        """
        marker = self.profile.marker_for(path)
        if marker is not None and marker.exists():
            return path.exists()
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        now = self._clock()
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return self.profile.quiet_seconds == 0 and stat.st_size > 0
        return stat.st_size > 0 and now - seen.since >= self.profile.quiet_seconds

    def waiting(self) -> bool:
        """Whether some file is in its quiet period, so the folder must be looked at again soon."""
        return bool(self._seen)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def prune(self, present: set[Path]) -> None:
        """Drops what is no longer in the folder (moved away, deleted by the device)."""
        for path in list(self._seen):
            if path not in present:
                del self._seen[path]


def unchanged_since(path: Path, size: int, mtime_ns: int) -> bool:
    """A last check just before sending: the file still is what was found whole."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (size, mtime_ns)
