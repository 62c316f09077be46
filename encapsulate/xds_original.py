"""The bytes of an original to deliver over XDS / MHD: the file without private metadata.

STANDARDS.md "Privacy" applies to originals too, so each type is delivered
only through the scrubber its own module exposes:

- application/pdf: ``pdf_document`` (active content refused, information
  dictionary, XMP and page metadata removed).
- image/jpeg: ``photo.pixel_stream`` (EXIF with GPS, serials and maker note,
  XMP, IPTC, thumbnail and trailer images removed; the EXIF orientation
  applied, losslessly where the stream allows).
- anything else (video, other images, DICOM) is refused: a video's metadata
  boxes can hold the GPS position, and no module exposes a scrubber for them
  yet; a DICOM file goes to the archive with ``wrap``, not to XDS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from encapsulate.errors import UnsupportedMediaError
from encapsulate.sniff import MediaType, sniff_file


def _pdf(path: Path) -> bytes:
    from encapsulate.pdf_document import read_pdf

    return read_pdf(path).data


def _jpeg(path: Path) -> bytes:
    from encapsulate.photo import pixel_stream, read_camera_jpeg

    return pixel_stream(read_camera_jpeg(path)).stream


# Imported on use, like the handlers: a PDF never loads the photo stack.
SCRUBBERS: dict[MediaType, Callable[[Path], bytes]] = {
    MediaType.PDF: _pdf,
    MediaType.JPEG: _jpeg,
}
# File name extension of each delivered type.
EXTENSIONS = {MediaType.PDF: ".pdf", MediaType.JPEG: ".jpg"}


def scrubbed_original(path: Path) -> tuple[MediaType, bytes]:
    """The media type and the bytes to deliver for the original at ``path``."""
    media_type = sniff_file(path)
    scrub = SCRUBBERS.get(media_type)
    if scrub is None:
        raise UnsupportedMediaError(
            f"{media_type.value} originals cannot be delivered with XDS metadata yet "
            "(their private metadata cannot be removed); wrap them as DICOM instead"
        )
    return media_type, scrub(path)
