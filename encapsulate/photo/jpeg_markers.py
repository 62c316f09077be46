"""A JPEG marker walker: structure, frame header and metadata segments, no decoding.

Follows ISO/IEC 10918-1 (ITU-T T.81) Annex B: a stream is SOI, then marker
segments (each 0xFF, a marker byte and a 2-byte length), entropy-coded data
after each SOS (in which 0xFF is byte-stuffed as 0xFF00 or is a restart marker
RST0-7), and EOI. Anything after EOI is not part of the image (MPF and vendor
trailers keep second images there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from encapsulate.errors import MediaError, UnsupportedMediaError

SOI = 0xD8
EOI = 0xD9
SOS = 0xDA
DRI = 0xDD
COM = 0xFE
APP0 = 0xE0
APP1 = 0xE1
APP2 = 0xE2
APP13 = 0xED
APP14 = 0xEE
APP15 = 0xEF

# Start Of Frame markers by coding process (T.81 Table B.1).
SOF_PROCESS = {
    0xC0: "baseline",
    0xC1: "extended",
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "differential-sequential",
    0xC6: "differential-progressive",
    0xC7: "differential-lossless",
    0xC9: "extended-arithmetic",
    0xCA: "progressive-arithmetic",
    0xCB: "lossless-arithmetic",
    0xCD: "differential-sequential-arithmetic",
    0xCE: "differential-progressive-arithmetic",
    0xCF: "differential-lossless-arithmetic",
}
# Markers that stand alone, without a length (T.81 B.1.1.3).
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
# In entropy-coded data, a marker is 0xFF followed by anything but a stuffed
# zero, a restart marker or a fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

ICC_SIGNATURE = b"ICC_PROFILE\x00"
ADOBE_SIGNATURE = b"Adobe"
EXIF_SIGNATURE = b"Exif\x00"
XMP_SIGNATURES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
MPF_SIGNATURE = b"MPF\x00"
PHOTOSHOP_SIGNATURE = b"Photoshop 3.0\x00"


@dataclass(frozen=True)
class Segment:
    """One marker segment; for SOS, ``end`` includes the entropy-coded data after it."""

    marker: int
    start: int
    end: int
    payload: bytes  # the bytes after the length field, up to the segment's declared end


@dataclass(frozen=True)
class Component:
    id: int
    h: int
    v: int
    quant_table: int


@dataclass(frozen=True)
class Frame:
    """The frame header (T.81 B.2.2)."""

    marker: int
    precision: int
    rows: int
    columns: int
    components: tuple[Component, ...]

    @property
    def process(self) -> str:
        return SOF_PROCESS[self.marker]

    @property
    def subsampling(self) -> str:
        """Chroma subsampling as J:a:b ("4:2:0", ...); "4:0:0" for grayscale."""
        if len(self.components) == 1:
            return "4:0:0"
        h = max(c.h for c in self.components)
        v = max(c.v for c in self.components)
        chroma = self.components[1]
        key = (h // chroma.h, v // chroma.v)
        return {
            (1, 1): "4:4:4",
            (2, 1): "4:2:2",
            (2, 2): "4:2:0",
            (1, 2): "4:4:0",
            (4, 1): "4:1:1",
        }.get(key, f"{h}x{v}:{chroma.h}x{chroma.v}")

    @property
    def mcu_size(self) -> tuple[int, int]:
        """(width, height) in pixels of one MCU; lossless transforms need alignment to it."""
        if len(self.components) == 1:
            return 8, 8
        return 8 * max(c.h for c in self.components), 8 * max(c.v for c in self.components)


@dataclass(frozen=True)
class JpegStructure:
    segments: tuple[Segment, ...]  # SOI to EOI, in order
    frame: Frame
    end: int  # offset just past EOI; bytes beyond it are a trailer

    def find(self, marker: int, signature: bytes = b"") -> list[Segment]:
        return [s for s in self.segments if s.marker == marker and s.payload.startswith(signature)]

    @property
    def icc_profile(self) -> bytes | None:
        """The ICC profile from its APP2 chunks, in sequence order (ICC.1 Annex B.4)."""
        chunks = [s.payload for s in self.find(APP2, ICC_SIGNATURE)]
        if not chunks:
            return None
        chunks.sort(key=lambda p: p[12] if len(p) > 12 else 0)
        return b"".join(p[14:] for p in chunks)

    @property
    def adobe_transform(self) -> int | None:
        """APP14 Adobe colour transform: 0 RGB/CMYK, 1 YCbCr, 2 YCCK."""
        for segment in self.find(APP14, ADOBE_SIGNATURE):
            if len(segment.payload) >= 12:
                return segment.payload[11]
        return None


def _frame(marker: int, payload: bytes) -> Frame:
    if len(payload) < 6:
        raise MediaError("the JPEG is corrupt: its frame header is too short")
    precision = payload[0]
    rows = int.from_bytes(payload[1:3], "big")
    columns = int.from_bytes(payload[3:5], "big")
    count = payload[5]
    if count == 0 or len(payload) < 6 + 3 * count:
        raise MediaError("the JPEG is corrupt: its frame header lists no components")
    components = tuple(
        Component(
            id=payload[6 + 3 * i],
            h=payload[7 + 3 * i] >> 4,
            v=payload[7 + 3 * i] & 0x0F,
            quant_table=payload[8 + 3 * i],
        )
        for i in range(count)
    )
    if any(not (1 <= c.h <= 4 and 1 <= c.v <= 4) for c in components):
        raise MediaError("the JPEG is corrupt: a component has an invalid sampling factor")
    if rows == 0 or columns == 0:
        raise UnsupportedMediaError(
            "the JPEG declares its height later in the stream (DNL), which is not supported"
            if rows == 0
            else "the JPEG has zero width"
        )
    return Frame(marker, precision, rows, columns, components)


def parse_jpeg(data: bytes) -> JpegStructure:
    """Walk the markers of a whole JPEG file.

    Raises ``MediaError`` when the stream is truncated or corrupt, with a reason
    a person can act on (usually: upload the photo again).
    """
    if not data.startswith(b"\xff\xd8"):
        raise MediaError("the file is not a JPEG: it has no start-of-image marker")
    segments = [Segment(SOI, 0, 2, b"")]
    frame: Frame | None = None
    size = len(data)
    pos = 2
    while True:
        if pos >= size - 1:
            raise MediaError(
                "the JPEG is truncated (it ends before its end-of-image marker); "
                "upload the original photo again"
            )
        if data[pos] != 0xFF:
            raise MediaError(f"the JPEG is corrupt: expected a marker at byte {pos}")
        start = pos
        while pos < size - 1 and data[pos + 1] == 0xFF:  # fill bytes (T.81 B.1.1.2)
            pos += 1
        marker = data[pos + 1]
        pos += 2
        if marker == EOI:
            segments.append(Segment(EOI, start, pos, b""))
            break
        if marker in _STANDALONE:
            continue
        if marker == SOI or marker == 0x00:
            raise MediaError(f"the JPEG is corrupt: unexpected marker at byte {start}")
        if pos + 2 > size:
            continue  # reported as truncated at the top of the loop
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise MediaError(f"the JPEG is corrupt: a segment at byte {start} has length {length}")
        end = pos + length
        if end > size:
            raise MediaError(
                "the JPEG is truncated (a header segment runs past the end of the file); "
                "upload the original photo again"
            )
        payload = data[pos + 2 : end]
        if marker in SOF_PROCESS:
            if frame is not None:
                raise UnsupportedMediaError("the JPEG has more than one frame (hierarchical)")
            frame = _frame(marker, payload)
        if marker == SOS:
            if frame is None:
                raise MediaError("the JPEG is corrupt: image data comes before its frame header")
            found = _NEXT_MARKER.search(data, end)
            if found is None:
                raise MediaError(
                    "the JPEG is truncated (its image data stops before the end-of-image "
                    "marker); upload the original photo again"
                )
            end = found.start()
        segments.append(Segment(marker, start, end, payload))
        pos = end
    if frame is None or not any(s.marker == SOS for s in segments):
        raise MediaError("the JPEG is corrupt: it holds no image data")
    return JpegStructure(tuple(segments), frame, pos)


def _is_kept(segment: Segment) -> bool:
    """Keep what decoding needs; drop every metadata segment (STANDARDS.md, Privacy)."""
    if segment.marker == APP2:
        return segment.payload.startswith(ICC_SIGNATURE)
    if segment.marker == APP14:
        return segment.payload.startswith(ADOBE_SIGNATURE)
    return not (APP0 <= segment.marker <= APP15 or segment.marker == COM)


def strip_metadata(data: bytes, structure: JpegStructure) -> bytes:
    """The same coded image with only SOI, tables, frame, scans, ICC, Adobe and EOI.

    JFIF, EXIF (GPS, maker notes, serial numbers, thumbnail), XMP, IPTC,
    comments, other APPn segments and anything after EOI are dropped. The
    entropy-coded data is copied byte for byte.
    """
    view = memoryview(data)
    return b"".join(view[s.start : s.end] for s in structure.segments if _is_kept(s))
