"""Boxes (atoms) of an MP4 / QuickTime file that ffprobe does not report.

ffprobe lists a file's metadata keys, but not an XMP packet (an ``XMP_``
atom in QuickTime's user data, or a ``uuid`` box with the XMP UUID, ISO/IEC
14496-12 4.2 / XMP part 3) nor other ``uuid`` boxes that vendors fill with
private data. Only the box headers are read, so a multi-gigabyte ``mdat`` is
skipped, not read.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# Boxes whose payload is itself a list of boxes, and that may hold metadata.
_CONTAINERS = {b"moov", b"trak", b"udta", b"mdia", b"minf", b"meta"}
_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_MAX_DEPTH = 6


def _walk(stream: BinaryIO, start: int, end: int, depth: int, found: list[str]) -> None:
    position = start
    while position + 8 <= end:
        stream.seek(position)
        header = stream.read(16)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header[:8])
        body = position + 8
        if size == 1 and len(header) >= 16:
            size = struct.unpack(">Q", header[8:16])[0]
            body = position + 16
        elif size == 0:
            size = end - position
        if size < body - position or position + size > end:
            return  # a damaged box: ffprobe's own checks report the file
        if kind == b"XMP_":
            found.append("XMP packet")
        elif kind == b"uuid":
            stream.seek(body)
            found.append("XMP packet" if stream.read(16) == _XMP_UUID else "vendor uuid box")
        elif kind in _CONTAINERS and depth < _MAX_DEPTH:
            # 'meta' is a full box in MP4 (4 bytes of version and flags) but a
            # plain container in QuickTime; a full box starts with zeros.
            inner = body
            if kind == b"meta":
                stream.seek(body)
                if stream.read(4) == b"\x00\x00\x00\x00":
                    inner += 4
            _walk(stream, inner, position + size, depth + 1, found)
        position += size


def box_extras(path: Path) -> list[str]:
    """Names of the private boxes (XMP, vendor ``uuid``) anywhere in the box tree."""
    found: list[str] = []
    with Path(path).open("rb") as stream:
        stream.seek(0, 2)
        _walk(stream, 0, stream.tell(), 0, found)
    return sorted(set(found))
