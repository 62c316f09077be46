"""Partial uploads on disk: one file per upload below HUB_DATA_DIR/uploads/.

Bytes are written at the upload's committed offset and fsynced before the
offset moves (tus 1.0.0 Requests.PATCH: the offset reported is what is stored).
Request bodies are streamed in 1 MiB pieces, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from hub.captures.storage import fsync_directory

PIECE_BYTES = 1024 * 1024
SUFFIX = ".part"


class PartialMissing(Exception):
    """The partial file is gone or shorter than the committed offset."""


@dataclass(frozen=True)
class Written:
    """What one request body delivered: its size and, if asked for, its digest."""

    size: int
    digest: bytes | None
    # False when the body ended (client gone) before the announced length.
    whole: bool


def uploads_directory() -> Path:
    return settings.HUB_DATA_DIR / "uploads"


def partial_path(upload_id: str) -> Path:
    return uploads_directory() / f"{upload_id}{SUFFIX}"


def partial_create(upload_id: str) -> None:
    """Creates the empty partial file, durably, so that HEAD at offset 0 tells the truth."""
    directory = uploads_directory()
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(partial_path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_directory(directory)


def partial_write(
    upload_id: str,
    *,
    offset: int,
    source: BinaryIO | None,
    limit: int,
    hasher: hashlib._Hash | None,
    before_write: Callable[[], None],
) -> Written:
    """Appends up to `limit` bytes read from `source` at `offset`, then fsyncs.

    Anything past `offset` is the leftover of a write that never committed and
    is cut first. A body that ends early (the client went away) keeps what
    arrived: tus 1.0.0 Requests.PATCH asks the server to store as much as it can.
    `before_write` runs before each piece goes to disk; it raises to stop.
    """
    path = partial_path(upload_id)
    try:
        out = path.open("r+b")
    except FileNotFoundError:
        raise PartialMissing(f"{path.name} is gone") from None
    with out:
        if os.fstat(out.fileno()).st_size < offset:
            raise PartialMissing(f"{path.name} is shorter than its committed offset {offset}")
        out.truncate(offset)
        out.seek(offset)
        size = 0
        while source is not None and size < limit:
            try:
                piece = source.read(min(PIECE_BYTES, limit - size))
            except OSError:
                break  # connection reset mid-body: keep what arrived
            if not piece:
                break
            before_write()
            out.write(piece)
            if hasher is not None:
                hasher.update(piece)
            size += len(piece)
        out.flush()
        os.fsync(out.fileno())
    return Written(
        size=size, digest=hasher.digest() if hasher is not None else None, whole=size == limit
    )


def partial_truncate(upload_id: str, *, offset: int) -> None:
    """Discards everything past `offset` (a chunk whose checksum did not match)."""
    with partial_path(upload_id).open("r+b") as out:
        out.truncate(offset)
        os.fsync(out.fileno())


def partial_head(upload_id: str, size: int) -> bytes:
    with partial_path(upload_id).open("rb") as source:
        return source.read(size)


def partial_pieces(upload_id: str, *, each: Callable[[], None]) -> Iterator[bytes]:
    """The assembled file in 1 MiB pieces; `each` runs before every piece (lease upkeep)."""
    with partial_path(upload_id).open("rb") as source:
        while True:
            each()
            piece = source.read(PIECE_BYTES)
            if not piece:
                return
            yield piece


def partial_remove(upload_id: str) -> None:
    partial_path(upload_id).unlink(missing_ok=True)


def partials_older_than(seconds: float) -> Iterator[str]:
    """Ids of partial files untouched for `seconds`, to sweep those whose record is gone."""
    directory = uploads_directory()
    if not directory.is_dir():
        return
    cutoff = time.time() - seconds
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            if path.stat().st_mtime < cutoff:
                yield path.name.removesuffix(SUFFIX)
        except FileNotFoundError:
            continue
