"""Partial uploads on disk: one file per upload below HUB_DATA_DIR/uploads/.

Bytes are written at the upload's committed offset and fsynced before the
offset moves (tus 1.0.0 Requests.PATCH: the offset reported is what is stored).
Request bodies are streamed in 256 KiB pieces, never held whole in memory.
Beside each partial file (`<id>.part`) lies the saved state of the sha256 of
its committed bytes (`<id>.sha256`), so the next chunk, whichever process
takes it, extends the digest without reading anything back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from capture_api.tus.running_sha256 import STATE_BYTES, RunningSha256
from hub.captures.storage import fsync_directory

logger = logging.getLogger(__name__)

PIECE_BYTES = 1024 * 1024
# Pieces read from a request body. gunicorn's body reader copies what it buffers
# for every read: an 8 MiB body read in 1 MiB pieces cost 6.1 ms here, in
# 256 KiB pieces 2.0 ms (64 KiB: 2.4 ms), against 1.2 ms for bare recv() calls.
BODY_PIECE_BYTES = 256 * 1024
SUFFIX = ".part"
# Beside each partial file, the running sha256 of its committed bytes:
# the offset it covers, the hash state, and a sha256 of those two.
RUNNING_SUFFIX = ".sha256"
_RUNNING_HEAD = struct.Struct(">Q")
RUNNING_BYTES = _RUNNING_HEAD.size + STATE_BYTES + hashlib.sha256().digest_size


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
    running: RunningSha256 | None = None,
) -> Written:
    """Appends up to `limit` bytes read from `source` at `offset`, then fsyncs.

    Anything past `offset` is the leftover of a write that never committed and
    is cut first. A body that ends early (the client went away) keeps what
    arrived: tus 1.0.0 Requests.PATCH asks the server to store as much as it can.
    `before_write` runs before each piece goes to disk; it raises to stop.
    `running` (the sha256 of the bytes before `offset`) is fed every piece written.
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
                piece = source.read(min(BODY_PIECE_BYTES, limit - size))
            except OSError:
                break  # connection reset mid-body: keep what arrived
            if not piece:
                break
            before_write()
            out.write(piece)
            if hasher is not None:
                hasher.update(piece)
            if running is not None:
                running.update(piece)
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


def partial_remove(upload_id: str) -> None:
    running_forget(upload_id)
    partial_path(upload_id).unlink(missing_ok=True)


def read_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of `path` in 1 MiB pieces (the only re-read of an upload)."""
    with path.open("rb") as source:
        source.seek(start)
        while start < end:
            piece = source.read(min(PIECE_BYTES, end - start))
            if not piece:
                raise PartialMissing(f"{path.name} is shorter than its committed offset {end}")
            start += len(piece)
            yield piece


def running_path(upload_id: str) -> Path:
    return uploads_directory() / f"{upload_id}{RUNNING_SUFFIX}"


def partial_sha256(upload_id: str, *, offset: int, each: Callable[[], None]) -> RunningSha256:
    """The sha256 of the upload's first `offset` (committed) bytes, to grow further.

    Committed bytes never change, so the state saved by an earlier PATCH, in
    any process, is caught up by reading only what it does not cover: nothing
    when it was saved, the last chunk if that request died after committing.
    """
    covered, digest = _running_load(upload_id, offset=offset)
    try:
        for piece in read_range(partial_path(upload_id), covered, offset):
            each()
            digest.update(piece)
    except FileNotFoundError:
        raise PartialMissing(f"{upload_id}{SUFFIX} is gone") from None
    return digest


def running_keep(upload_id: str, *, offset: int, digest: RunningSha256) -> None:
    """Saves `digest` as the sha256 of the upload's first `offset` bytes, once committed.

    Not fsynced, and replaced by rename: after a power cut it may be older than
    the offset, or gone, which costs a re-read, never a wrong digest.
    """
    state = digest.state()
    if state is None:
        return
    head = _RUNNING_HEAD.pack(offset) + state
    spare = running_path(upload_id).with_suffix(f".{uuid.uuid4().hex}.tmp")
    try:
        spare.write_bytes(head + hashlib.sha256(head).digest())
        spare.replace(running_path(upload_id))
    except OSError as error:
        # The chunk is committed: the request succeeds, the next one reads back instead.
        spare.unlink(missing_ok=True)
        logger.warning("the sha256 state of upload %s was not saved: %s", upload_id, error)


def _running_load(upload_id: str, *, offset: int) -> tuple[int, RunningSha256]:
    """The saved state if it is whole and covers no more than `offset`; else a fresh one."""
    try:
        saved = running_path(upload_id).read_bytes()
    except OSError:  # gone (or unreadable): start from the first byte
        return 0, RunningSha256()
    head, check = saved[: -hashlib.sha256().digest_size], saved[-hashlib.sha256().digest_size :]
    if len(saved) != RUNNING_BYTES or hashlib.sha256(head).digest() != check:
        return 0, RunningSha256()
    (covered,) = _RUNNING_HEAD.unpack_from(head)
    if covered > offset:
        return 0, RunningSha256()
    try:
        return covered, RunningSha256(head[_RUNNING_HEAD.size :])
    except ValueError:  # saved with libcrypto, read without it
        return 0, RunningSha256()


def running_forget(upload_id: str) -> None:
    running_path(upload_id).unlink(missing_ok=True)


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


def running_strays_remove(seconds: float) -> int:
    """Removes saved sha256 states (and half-written ones) untouched for `seconds`
    whose partial file is gone: a crash between the partial's rename into the
    originals, or its removal, and theirs. Returns how many were removed."""
    directory = uploads_directory()
    if not directory.is_dir():
        return 0
    cutoff = time.time() - seconds
    removed = 0
    for path in [*directory.glob(f"*{RUNNING_SUFFIX}"), *directory.glob("*.tmp")]:
        upload_id = path.name.split(".", 1)[0]
        try:
            if partial_path(upload_id).exists() or path.stat().st_mtime >= cutoff:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed
