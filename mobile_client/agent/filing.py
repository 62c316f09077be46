"""Moving a handled file out of the way: into `FOLDER/done/` or `FOLDER/failed/`.

A move is a rename within the folder's file system, so a file is either still
waiting or filed, never half-copied. The reason for a failure is written next
to the file as `NAME.reason.txt` (one line) before the file is moved, so a
failed file never sits in `failed/` without its reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

DONE = "done"
FAILED = "failed"
REASON_SUFFIX = ".reason.txt"


def file_done(media: Path, companions: Iterable[Path], *, siblings_pending: bool) -> Path:
    """Moves the media (and its marker and sidecar) to `done/`; returns its new path."""
    return _file(media, companions, DONE, siblings_pending=siblings_pending)


def file_failed(
    media: Path, companions: Iterable[Path], reason: str, *, siblings_pending: bool
) -> Path:
    """Writes `failed/NAME.reason.txt` with the one-line reason, then moves the media there."""
    target_dir = media.parent / FAILED
    target_dir.mkdir(exist_ok=True)
    target = _free_name(target_dir, media.name)
    line = " ".join(reason.split()) + "\n"
    _write_durably(target_dir / (target.name + REASON_SUFFIX), line)
    return _file(media, companions, FAILED, siblings_pending=siblings_pending, target=target)


def _file(
    media: Path,
    companions: Iterable[Path],
    kind: str,
    *,
    siblings_pending: bool,
    target: Path | None = None,
) -> Path:
    target_dir = media.parent / kind
    target_dir.mkdir(exist_ok=True)
    target = target or _free_name(target_dir, media.name)
    media.replace(target)
    for companion in companions:
        if not companion.exists():
            continue
        destination = _free_name(target_dir, companion.name)
        if siblings_pending:
            # Another file of the same stem (clip01.jpg beside clip01.mpg) still needs it.
            destination.write_bytes(companion.read_bytes())
        else:
            companion.replace(destination)
    _fsync_directory(target_dir)
    _fsync_directory(media.parent)
    return target


def _free_name(directory: Path, name: str) -> Path:
    """`name` in `directory`, or `stem.1.suffix`, `stem.2.suffix`... if it is taken."""
    candidate = directory / name
    stem, dot, suffix = name.partition(".")
    number = 1
    while candidate.exists() or (directory / (candidate.name + REASON_SUFFIX)).exists():
        candidate = directory / f"{stem}.{number}{dot}{suffix}"
        number += 1
    return candidate


def _write_durably(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some network shares cannot open a directory; the rename still happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
