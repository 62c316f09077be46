"""Recognise a media file by its content, never by its name or declared type.

A phone may call a HEIC file ``photo.jpg`` and a browser may send anything as
``image/jpeg``; only the leading bytes (the "magic numbers" of each format's
own specification) are trusted.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from encapsulate.errors import MediaError, UnsupportedMediaError

HEAD_SIZE = 512


class MediaType(StrEnum):
    """Formats the hub can recognise, valued by their MIME type."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    HEIF = "image/heif"
    TIFF = "image/tiff"
    GIF = "image/gif"
    WEBP = "image/webp"
    BMP = "image/bmp"
    MP4 = "video/mp4"
    QUICKTIME = "video/quicktime"
    MPEG_TS = "video/mp2t"
    MPEG_PS = "video/mpeg"
    WEBM = "video/webm"
    MATROSKA = "video/x-matroska"
    AVI = "video/x-msvideo"
    PDF = "application/pdf"
    DICOM = "application/dicom"


# ISO/IEC 14496-12 'ftyp' major brands.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
_QUICKTIME_BRANDS = {b"qt  "}


def sniff(head: bytes) -> MediaType | None:
    """The media type of a file starting with ``head`` (the first HEAD_SIZE bytes), or None."""
    if head.startswith(b"\xff\xd8\xff"):  # SOI then a marker (ISO/IEC 10918-1 B.2.1)
        return MediaType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType.GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return MediaType.TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head.startswith(b"BM") and len(head) >= 26 and head[14] in (12, 40, 56, 108, 124):
        return MediaType.BMP  # the DIB header size disambiguates a bare "BM"
    if head.startswith(b"%PDF-"):
        return MediaType.PDF
    if len(head) >= 132 and head[128:132] == b"DICM":  # PS3.10 7.1 preamble + prefix
        return MediaType.DICOM
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return MediaType.HEIF
        if brand in _QUICKTIME_BRANDS:
            return MediaType.QUICKTIME
        return MediaType.MP4
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:  # TS sync bytes
        return MediaType.MPEG_TS
    if head.startswith(b"\x00\x00\x01\xba"):  # pack header (ISO/IEC 13818-1 2.5.3.3)
        return MediaType.MPEG_PS
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML header; its DocType names the flavour
        return MediaType.WEBM if b"webm" in head[:64] else MediaType.MATROSKA
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaType.AVI
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the head's end is still text.
        if error.start < len(head) - 3:
            return False
    return all(b >= 0x20 or b in b"\t\n\r\f" for b in head)


def identify(head: bytes) -> MediaType:
    """The media type of a file whose first ``HEAD_SIZE`` bytes are ``head``.

    Like ``sniff`` but for the hub's upload check: raises ``MediaError`` for
    an empty file and ``UnsupportedMediaError`` for text or an unknown format.
    """
    if not head:
        raise MediaError("the file is empty")
    found = sniff(head)
    if found is not None:
        return found
    if _looks_like_text(head[:HEAD_SIZE]):
        raise UnsupportedMediaError(
            "the file is text, not an image or video; upload the photo or video itself"
        )
    raise UnsupportedMediaError(
        "the file is not in a recognised image or video format (JPEG, PNG, HEIC, MP4, ...)"
    )


def sniff_file(path: Path) -> MediaType:
    """The media type of the file at ``path``.

    Raises ``MediaError`` for an empty or unreadable file and
    ``UnsupportedMediaError`` for text or an unknown format.
    """
    try:
        with Path(path).open("rb") as stream:
            head = stream.read(HEAD_SIZE)
    except OSError as error:
        raise MediaError(f"the file cannot be read: {error.strerror or error}") from None
    return identify(head)
