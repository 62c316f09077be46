"""multipart/related read from a stream, each part spooled to a file in bounded memory."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024


class MultipartError(Exception):
    """The body is not a well-formed multipart message."""


class PartTooLarge(Exception):
    """A part passed its size limit; nothing more of the body was read.

    `part` holds what had arrived up to the limit (its head, for a caller
    that wants to say which instance it was).
    """

    def __init__(self, part: Part, limit: int) -> None:
        where = part.headers.get("content-location")
        named = f" ({where[:200]})" if where else ""
        super().__init__(
            f"a part of type {part.content_type or 'unknown'}{named} is over {limit} bytes"
        )
        self.part = part
        self.limit = limit


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # names in lower case
    path: Path
    size: int
    sha256: str = ""  # of the body, taken while it was spooled

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def media_type_params(value: str) -> tuple[str, dict[str, str]]:
    """`multipart/related; type="application/dicom"; boundary=x` as its type and parameters."""
    pieces = value.split(";")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, param = piece.partition("=")
        params[name.strip().lower()] = param.strip().strip('"')
    return pieces[0].strip().lower(), params


class _Reader:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buffer = b""
        self.eof = False

    def fill(self) -> bool:
        if self.eof:
            return False
        data = self.stream.read(CHUNK)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True


def iter_parts(
    stream: BinaryIO,
    boundary: str,
    spool_dir: Path,
    *,
    limit: Callable[[dict[str, str]], int] | None = None,
) -> Iterator[Part]:
    """Yields each part once its body is on disk; the caller may delete the file.

    `limit(headers)` is the most bytes a part with those headers may hold: one
    that passes it raises PartTooLarge as soon as it does, without reading on.
    """
    if not boundary or len(boundary) > 70:
        raise MultipartError("the multipart boundary is missing or longer than 70 characters")
    reader = _Reader(stream)
    first = b"--" + boundary.encode("latin-1")
    delimiter = b"\r\n" + first
    # The preamble, up to the first delimiter.
    reader.buffer = b"\r\n"
    while (at := reader.buffer.find(delimiter)) < 0:
        reader.buffer = reader.buffer[-len(delimiter) :]
        if not reader.fill():
            raise MultipartError("the body holds no part with the announced boundary")
    reader.buffer = reader.buffer[at + len(delimiter) :]
    while True:
        while len(reader.buffer) < 2 and reader.fill():
            pass
        if reader.buffer.startswith(b"--"):
            return
        end = -1
        while (end := reader.buffer.find(b"\r\n\r\n")) < 0:
            if len(reader.buffer) > MAX_HEADER_BYTES or not reader.fill():
                raise MultipartError("a part's headers are malformed or too long")
        headers = _headers(reader.buffer[:end])
        reader.buffer = reader.buffer[end + 4 :]
        most = limit(headers) if limit is not None else None
        size = 0
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=spool_dir, suffix=".part", delete=False) as handle:
            while (at := reader.buffer.find(delimiter)) < 0:
                keep = len(delimiter) - 1
                if len(reader.buffer) > keep:
                    handle.write(reader.buffer[:-keep])
                    digest.update(reader.buffer[:-keep])
                    size += len(reader.buffer) - keep
                    reader.buffer = reader.buffer[-keep:]
                if most is not None and size > most:
                    handle.flush()
                    raise PartTooLarge(Part(headers, Path(handle.name), size), most)
                if not reader.fill():
                    raise MultipartError("the body ends inside a part (no closing boundary)")
            handle.write(reader.buffer[:at])
            digest.update(reader.buffer[:at])
            size += at
            reader.buffer = reader.buffer[at + len(delimiter) :]
        if most is not None and size > most:
            raise PartTooLarge(Part(headers, Path(handle.name), size), most)
        yield Part(headers=headers, path=Path(handle.name), size=size, sha256=digest.hexdigest())


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise MultipartError(f"a part's header line is malformed: {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers
