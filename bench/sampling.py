"""Sampling profiles of the hub's processes with py-spy, and where their time goes.

py-spy is not a requirement of the project: install it where you like
(``pip install --target /tmp/pyspy py-spy``) and name the binary with
``--py-spy`` or the PY_SPY variable. Profiles are taken in a run of their own:
py-spy's sampling costs CPU on a 2-core machine, so the figures of a profiled
run are not the ones to report.

`summary()` reads py-spy's collapsed stacks (``--format raw``) and gives the
share of samples in which a frame appears (inclusive), for the frames of the
project and a few libraries that matter here, within a task or a view. Time in a child process
(jpegtran) shows as the Python frame waiting for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

OURS = ("hub/", "encapsulate/", "capture_api/")
LIBRARIES = ("cv2", "psycopg", "requests", "urllib3", "kombu", "pydicom", "PIL", "subprocess")


def py_spy_binary(explicit: str | None) -> str:
    binary = explicit or os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not binary:
        raise SystemExit("py-spy not found: pip install --target /tmp/pyspy py-spy; --py-spy PATH")
    return binary


@contextlib.contextmanager
def recording(
    binary: str, pids: dict[str, int], folder: Path, *, idle: bool = False
) -> Iterator[dict[str, Path]]:
    """py-spy record of each pid and its subprocesses for the duration of the block.

    Without `idle` only samples on CPU are kept (waits for the database, the
    network or a child such as jpegtran drop out); with it, wall time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {name: folder / f"{name}.collapsed.txt" for name in pids}
    processes = [
        subprocess.Popen(
            [
                *(binary, "record", "--pid", str(pid), "--subprocesses"),
                *(["--idle"] if idle else []),
                *("--rate", "50", "--format", "raw", "--output", str(outputs[name])),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"{name}.py-spy.log").open("wb"),
        )
        for name, pid in pids.items()
    ]
    try:
        yield outputs
    finally:
        # SIGINT makes py-spy write its output and exit.
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _parse(frame: str) -> tuple[str, str]:
    """("func", "path") of a raw frame "func (path:line)"."""
    name, _, where = frame.partition(" (")
    return name, where.rstrip(")").rsplit(":", 1)[0]


def _package(path: str) -> str:
    """The top package of a frame's file: "hub", "psycopg", "subprocess", "<frozen ...>"."""
    if path.startswith("<"):
        return path
    return path.split("/", 1)[0].removesuffix(".py")


def summary(collapsed: Path, *, within: str, top: int = 25) -> tuple[int, list, list]:
    """Samples whose stack passes through a file under `within` (a task, a view).

    Returns their count, the frames of the project and named libraries by the
    share of those samples they appear in (inclusive), and the share of each
    package at the leaf (where the sample was: its own code, or waiting in
    ``subprocess``, ``socket``, ``psycopg``).
    """
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        frames = [
            _parse(frame)
            for frame in stack.split(";")
            if frame and not frame.startswith(("process ", "thread "))
        ]
        if not any(path.startswith(within) for _, path in frames):
            continue
        count = int(count_text)
        total += count
        leaves[_package(frames[-1][1])] += count
        seen = set()
        for name, path in frames:
            if path.startswith(OURS) or _package(path) in LIBRARIES:
                short = f"{path}:{name}"
                if short not in seen:
                    seen.add(short)
                    inclusive[short] += count
    if not total:
        return 0, [], []
    return (
        total,
        [(frame, count / total) for frame, count in inclusive.most_common(top)],
        [(package, count / total) for package, count in leaves.most_common(12)],
    )


# Where a sample of a task goes: the first label whose marker is in its stack.
CATEGORIES = (
    ("jpegtran (the worker waiting for it)", "encapsulate/photo/jpeg_transform.py:jpegtran"),
    ("upload: storing the original", "hub/captures/storage.py:store_original"),
    ("upload: multipart parsing", "django/http/multipartparser.py"),
    ("faces: the preview decode", "encapsulate/photo/jpeg_wrap.py:preview_pixels"),
    ("faces: the cascade", "encapsulate/media/privacy.py:count_faces"),
    ("PostgreSQL: connecting", "psycopg/connection.py:Connection.connect"),
    ("PostgreSQL: queries", "psycopg/"),
    ("broker: publishing", "kombu/messaging.py:Producer.publish"),
    ("STOW-RS request", "hub/delivery/senders/"),
    ("DICOM: build and write", "encapsulate/"),
    ("Django ORM and the rest of the hub", "hub/"),
)


def categories(collapsed: Path, *, within: str) -> list[tuple[str, float]]:
    """Share of the samples within `within` per CATEGORIES label (exclusive)."""
    shares: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or within not in stack:
            continue
        frames = [f"{path}:{name}" for name, path in map(_parse, stack.split(";"))]
        count = int(count_text)
        total += count
        label = next(
            (label for label, marker in CATEGORIES if any(marker in f for f in frames)), "other"
        )
        shares[label] += count
    return [(label, count / total) for label, count in shares.most_common()] if total else []


def print_summary(outputs: dict[str, tuple[Path, str]], top: int = 25) -> None:
    """Prints, for each profile, where the samples within its `within` files went."""
    for name, (path, within) in outputs.items():
        if not path.exists():
            print(f"(no profile of {name}: see {path.parent}/{name}.py-spy.log)")
            continue
        total, frames, leaves = summary(path, within=within, top=top)
        print(f"\n{name}: {total} samples (50 Hz) within {within} ({path})")
        print("| frame (inclusive) | share |")
        print("| --- | --- |")
        for frame, share in frames:
            print(f"| {frame} | {share:.0%} |")
        print("| where (first match, exclusive) | share |")
        print("| --- | --- |")
        for label, share in categories(path, within=within):
            print(f"| {label} | {share:.0%} |")
        print("| package at the leaf | share |")
        print("| --- | --- |")
        for package, share in leaves:
            print(f"| {package} | {share:.0%} |")
