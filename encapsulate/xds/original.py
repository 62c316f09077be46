"""The original to deliver over XDS / MHD: the file without private metadata.

STANDARDS.md "Privacy" applies to originals too, so each type is delivered
only through the scrubber its own module exposes:

- application/pdf: ``pdf.document`` (active content refused, information
  dictionary, XMP and page metadata removed).
- image/jpeg: ``photo.camera_jpeg.pixel_stream`` (EXIF with GPS, serials and maker note,
  XMP, IPTC, thumbnail and trailer images removed; the EXIF orientation
  applied, losslessly where the stream allows).
- video/mp4, video/quicktime, video/mp2t, video/mpeg: ``video.scrub`` (the
  video module's remux: the same coded packets in a container without
  metadata keys, chapters, XMP or ``uuid`` boxes; a QuickTime comes out as
  MP4, so the delivered type can differ from the received one).
- anything else (WebM, Matroska, AVI, other images, DICOM) is refused: no
  module exposes a scrubber for them yet; a DICOM file goes to the archive
  with ``wrap``, not to XDS.

``write_scrubbed_original`` streams to a file, which a video needs (it may be
gigabytes); ``scrubbed_original`` returns the bytes, for small files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from encapsulate.errors import UnsupportedMediaError
from encapsulate.media.sniff import MediaType, sniff_file


def _pdf(path: Path, target: Path) -> MediaType:
    from encapsulate.pdf.document import read_pdf

    target.write_bytes(read_pdf(path).data)
    return MediaType.PDF


def _jpeg(path: Path, target: Path) -> MediaType:
    from encapsulate.photo.camera_jpeg import pixel_stream, read_camera_jpeg

    target.write_bytes(pixel_stream(read_camera_jpeg(path)).stream)
    return MediaType.JPEG


def _video(path: Path, target: Path) -> MediaType:
    from encapsulate.video.scrub import scrub_video

    return scrub_video(path, target)


# Imported on use, like the handlers: a PDF never loads the photo or video stack.
# Each writes the scrubbed file to its target and says what type it wrote.
SCRUBBERS: dict[MediaType, Callable[[Path, Path], MediaType]] = {
    MediaType.PDF: _pdf,
    MediaType.JPEG: _jpeg,
    MediaType.MP4: _video,
    MediaType.QUICKTIME: _video,
    MediaType.MPEG_TS: _video,
    MediaType.MPEG_PS: _video,
}
# File name extension of each type delivered (a QuickTime is delivered as MP4).
EXTENSIONS = {
    MediaType.PDF: ".pdf",
    MediaType.JPEG: ".jpg",
    MediaType.MP4: ".mp4",
    MediaType.MPEG_TS: ".ts",
    MediaType.MPEG_PS: ".mpg",
}


def write_scrubbed_original(path: Path, target: Path) -> MediaType:
    """Write the original at ``path``, scrubbed, to ``target``; the media type written.

    ``target`` (a file the caller names, in any existing folder; its name's
    extension does not matter) is overwritten, and removed if anything fails.
    The type written can differ from the type received (QuickTime becomes
    MP4); ``EXTENSIONS`` has a file name extension for each type written.
    Raises ``UnsupportedMediaError`` for a type whose metadata cannot be
    removed and ``MediaError`` for a broken file.
    """
    path, target = Path(path), Path(target)
    media_type = sniff_file(path)
    scrub = SCRUBBERS.get(media_type)
    if scrub is None:
        raise UnsupportedMediaError(
            f"{media_type.value} originals cannot be delivered with XDS metadata yet "
            "(their private metadata cannot be removed); wrap them as DICOM instead"
        )
    try:
        return scrub(path, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def scrubbed_original(path: Path) -> tuple[MediaType, bytes]:
    """The media type and the bytes to deliver for the original at ``path`` (held in memory)."""
    fd, temp = tempfile.mkstemp(prefix=".scrubbed-", suffix=".part")
    os.close(fd)
    try:
        media_type = write_scrubbed_original(path, Path(temp))
        return media_type, Path(temp).read_bytes()
    finally:
        Path(temp).unlink(missing_ok=True)
