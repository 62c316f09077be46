"""Whole-file structure checks for PNG, WebP, HEIF and TIFF, before any decoding.

A file is accepted only when its container walks cleanly from the first byte
to the last (PNG: ISO/IEC 15948 chunks with CRCs up to IEND; WebP: the RIFF
size; HEIF: ISO/IEC 14496-12 top-level boxes). Bytes after the image's end
are refused when they make the file something else as well (a polyglot: a ZIP
archive, an HTML page, a PDF), because what the file "is" then depends on who
opens it. The walkers read only headers; they never raise anything but
``MediaError``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from encapsulate.errors import MediaError, UnsupportedMediaError

# What other formats look like at the place a reader would look for them.
_ZIP_END = b"PK\x05\x06"  # end of central directory: zip readers scan back for it
_ZIP_LOCAL = b"PK\x03\x04"
_ACTIVE = (b"<html", b"<!doctype", b"<script", b"<svg", b"<?xml", b"%pdf-", b"<body")
# PNG chunks that carry text, EXIF or time: never copied, named in MediaInfo.
PNG_PRIVATE_CHUNKS = {
    b"tEXt": "PNG text",
    b"zTXt": "PNG text",
    b"iTXt": "PNG text (XMP)",
    b"eXIf": "EXIF",
    b"tIME": "PNG time",
}
WEBP_PRIVATE_CHUNKS = {b"EXIF": "EXIF", b"XMP ": "XMP"}


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    chunks: tuple[bytes, ...]


def refuse_polyglot(data: bytes, image_end: int, what: str) -> None:
    """Refuse a file that another program would read as a different format.

    ``image_end`` is where the image's own structure ends. Trailing data is
    tolerated (phones append a second image or a motion-photo video), but not
    a ZIP end-of-central-directory anywhere near the end of the file, nor
    markup or a PDF right after the image.
    """
    if _ZIP_END in data[-65557:] or _ZIP_LOCAL in data[image_end : image_end + 1024]:
        raise UnsupportedMediaError(
            f"the file is both a {what} and a ZIP archive; send the photo on its own"
        )
    head = data[image_end : image_end + 1024].lstrip(b"\x00\r\n\t ").lower()
    if head.startswith(_ACTIVE):
        raise UnsupportedMediaError(
            f"the file is a {what} with a web page or document appended; send the photo on its own"
        )


def walk_png(data: bytes) -> PngHeader:
    """Walk every chunk of a PNG, checking lengths and CRCs (ISO/IEC 15948 5.3)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MediaError("the file is not a PNG: it has no PNG signature")
    pos, chunks, header = 8, [], None
    while True:
        if pos + 12 > len(data):
            raise MediaError(
                "the PNG is truncated (it ends before its IEND chunk); upload it again"
            )
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise MediaError("the PNG is truncated (a chunk runs past the end of the file)")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise MediaError(
                f"the PNG is corrupt: the {kind.decode('latin-1')!r} chunk fails its CRC"
            )
        if not chunks:
            if kind != b"IHDR" or length != 13:
                raise MediaError("the PNG is corrupt: it does not start with its header chunk")
            header = struct.unpack(">IIBB", body[:10])
        chunks.append(kind)
        pos = end
        if kind == b"IEND":
            break
    if b"IDAT" not in chunks or header is None:
        raise MediaError("the PNG is corrupt: it holds no image data")
    refuse_polyglot(data, pos, "PNG")
    width, height, depth, colour = header
    return PngHeader(width, height, depth, colour, tuple(chunks))


def walk_webp(data: bytes) -> tuple[bytes, ...]:
    """The chunk FourCCs of a WebP file (RIFF container, RFC 9649 section 2)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MediaError("the file is not a WebP: it has no RIFF WEBP header")
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size
    if end > len(data):
        raise MediaError(
            "the WebP is truncated (shorter than its RIFF header says); upload it again"
        )
    pos, chunks = 12, []
    while pos + 8 <= end:
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        pos += 8 + length + (length & 1)
        if pos > end:
            raise MediaError("the WebP is truncated (a chunk runs past its end)")
        chunks.append(kind)
    if not chunks or not ({b"VP8 ", b"VP8L", b"ANMF"} & set(chunks)):
        raise MediaError("the WebP is corrupt: it holds no image data")
    refuse_polyglot(data, end, "WebP")
    return tuple(chunks)


def walk_isobmff(data: bytes) -> tuple[bytes, ...]:
    """The top-level box types of a HEIF file (ISO/IEC 14496-12 4.2)."""
    pos, boxes = 0, []
    while pos < len(data):
        if pos + 8 > len(data):
            raise MediaError("the HEIF file is truncated (a box header is cut off)")
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            if pos + 16 > len(data):
                raise MediaError("the HEIF file is truncated (a box header is cut off)")
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
        elif size == 0:
            size = len(data) - pos
        if size < 8 or pos + size > len(data):
            raise MediaError(
                "the HEIF file is truncated (a box runs past the end); upload it again"
            )
        boxes.append(kind)
        pos += size
    if not boxes or boxes[0] != b"ftyp" or b"meta" not in boxes:
        raise MediaError("the HEIF file is corrupt: it has no ftyp or meta box")
    refuse_polyglot(data, len(data), "HEIF image")
    return tuple(boxes)
