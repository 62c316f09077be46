"""A file is taken when whole: still for the quiet period, or its done-marker is there."""

from __future__ import annotations

import os
from pathlib import Path

from mobile_client.agent.completeness import CompletenessTracker
from mobile_client.agent.profiles import parse_profile


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def profile(**extra: object):
    return parse_profile("tower", {"patterns": ["*.mpg"], "quiet_seconds": 5, **extra})


def test_a_growing_file_is_not_taken_until_it_stays_still(tmp_path: Path) -> None:
    clock = Clock()
    tracker = CompletenessTracker(profile(), clock=clock)
    clip = tmp_path / "clip.mpg"
    clip.write_bytes(b"a" * 1000)

    assert not tracker.is_complete(clip)
    for second in range(1, 10):  # a tower writing a piece every second
        clock.now += 1
        with clip.open("ab") as out:
            out.write(b"b" * 1000)
        assert not tracker.is_complete(clip), f"taken while growing, after {second} s"
    assert tracker.waiting()

    clock.now += 4.9
    assert not tracker.is_complete(clip)
    clock.now += 0.2
    assert tracker.is_complete(clip)


def test_a_rewrite_of_the_same_size_restarts_the_quiet_period(tmp_path: Path) -> None:
    clock = Clock()
    tracker = CompletenessTracker(profile(), clock=clock)
    clip = tmp_path / "clip.mpg"
    clip.write_bytes(b"a" * 10)
    tracker.is_complete(clip)
    clock.now += 4
    clip.write_bytes(b"b" * 10)
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    assert not tracker.is_complete(clip)
    clock.now += 4
    assert not tracker.is_complete(clip)
    clock.now += 1.5
    assert tracker.is_complete(clip)


def test_the_done_marker_makes_a_file_taken_at_once(tmp_path: Path) -> None:
    tracker = CompletenessTracker(profile(done_marker="{name}.done"), clock=Clock())
    clip = tmp_path / "clip.mpg"
    clip.write_bytes(b"a" * 1000)
    assert not tracker.is_complete(clip)

    (tmp_path / "clip.mpg.done").touch()

    assert tracker.is_complete(clip)


def test_empty_and_vanished_files_are_never_complete(tmp_path: Path) -> None:
    clock = Clock()
    tracker = CompletenessTracker(profile(quiet_seconds=0), clock=clock)
    empty = tmp_path / "empty.mpg"
    empty.touch()
    assert not tracker.is_complete(empty)
    clock.now += 60
    assert not tracker.is_complete(empty)

    gone = tmp_path / "gone.mpg"
    gone.write_bytes(b"x")
    tracker.is_complete(gone)
    gone.unlink()
    assert not tracker.is_complete(gone)
    tracker.prune(set())
    assert not tracker.waiting()
