"""The few EXIF facts the hub keeps, and the names of those it strips.

EXIF 2.32 (CIPA DC-008): Orientation (0x0112) and Make / Model in IFD0;
DateTimeOriginal (0x9003), OffsetTimeOriginal (0x9011) and
SubSecTimeOriginal (0x9291) in the Exif IFD. Privacy-relevant tags are only
named here (for MediaInfo); the marker stripper removes the whole APP1 anyway,
so a damaged EXIF block never stops a capture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image

_ORIENTATION = 0x0112
_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_SUBSEC_TIME_ORIGINAL = 0x9291
_THUMBNAIL_OFFSET = 0x0201

# Tags that identify a person, a place or a device; named in MediaInfo.
_PRIVATE_IFD0 = {0x013B: "Artist", 0xC62F: "CameraSerialNumber"}
_PRIVATE_EXIF = {
    0x927C: "MakerNote",
    0x9286: "UserComment",
    0xA420: "ImageUniqueID",
    0xA430: "CameraOwnerName",
    0xA431: "BodySerialNumber",
    0xA435: "LensSerialNumber",
}

# Pillow's TIFF reader raises a variety of these on damaged input.
_DAMAGED = (ValueError, TypeError, KeyError, IndexError, struct.error, SyntaxError, OSError)


@dataclass(frozen=True)
class ExifFacts:
    orientation: int = 1
    captured_at: datetime | None = None
    make: str | None = None
    model: str | None = None
    private: tuple[str, ...] = ()


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _capture_time(exif_ifd: dict[int, object]) -> datetime | None:
    stamp = _text(exif_ifd.get(_DATETIME_ORIGINAL))
    if stamp is None:
        return None
    try:
        moment = datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "    :  :     " and other placeholders cameras write
    subsec = _text(exif_ifd.get(_SUBSEC_TIME_ORIGINAL))
    if subsec and subsec.isdigit():
        moment = moment.replace(microsecond=int((subsec + "000000")[:6]))
    offset = _text(exif_ifd.get(_OFFSET_TIME_ORIGINAL))
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
        except ValueError:
            return moment
        sign = 1 if offset[0] == "+" else -1
        moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return moment


def read_exif(app1_payload: bytes) -> ExifFacts:
    """Facts from an APP1 EXIF payload (starting "Exif\\0\\0"); never raises on bad data."""
    exif = Image.Exif()
    try:
        exif.load(app1_payload)
    except _DAMAGED:
        return ExifFacts(private=("EXIF (unreadable)",))
    return exif_facts(exif)


def exif_facts(exif: Image.Exif) -> ExifFacts:
    """Facts from EXIF Pillow has read (``Image.getexif()`` of TIFF, WebP, PNG, HEIF)."""
    try:
        ifd0 = dict(exif)
        exif_ifd = dict(exif.get_ifd(ExifTags.IFD.Exif))
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except _DAMAGED:
        return ExifFacts(private=("EXIF (unreadable)",))
    private = [name for tag, name in _PRIVATE_IFD0.items() if tag in ifd0]
    if gps_ifd or ExifTags.IFD.GPSInfo in ifd0:
        private.insert(0, "GPS")
    private += [name for tag, name in _PRIVATE_EXIF.items() if tag in exif_ifd]
    if _THUMBNAIL_OFFSET in ifd1:
        private.append("Thumbnail")
    orientation = ifd0.get(_ORIENTATION, 1)
    return ExifFacts(
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
        captured_at=_capture_time(exif_ifd),
        make=_text(ifd0.get(_MAKE)),
        model=_text(ifd0.get(_MODEL)),
        private=tuple(private),
    )
