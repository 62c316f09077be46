"""A video original without private metadata, for delivery with XDS metadata.

The video module's remux (``video_transcode.remux``) already rewrites a
container with FFmpeg without re-encoding: ``-c copy`` of the first video and
audio streams only, ``-map_metadata -1`` and ``-map_chapters -1`` (GPS
position, make, model, owner, serials, creation date), ``-fflags +bitexact``
(no FFmpeg version, no wall-clock time). FFmpeg copies no box it does not
write itself, so an ``XMP_`` atom or a ``uuid`` box (XMP or a vendor's) is
left behind too; the result is checked for all of these before it is given
back, as the DICOM path checks what it stores.

Which container comes out, and so which MIME type the DocumentEntry says:

- MP4 and QuickTime (MOV) become MP4 (``video/mp4``): the same muxer the
  DICOM path uses, a brand every XDS consumer plays, and it holds what phones
  record (H.264 or HEVC with AAC). A QuickTime whose streams MP4 cannot hold
  as they are (PCM audio, ProRes) is refused rather than re-encoded: the
  delivered file is meant to be the original's coded data.
- MPEG-2 transport and program streams stay what they are (``video/mp2t``,
  ``video/mpeg``).
- WebM, Matroska and AVI are refused: the video module writes none of these
  containers, so nothing here could rewrite them without re-encoding.

The display matrix (rotation) of a phone video is kept: an original is shown
by a player, which honours it (the DICOM path turns the pixels instead).
"""

from __future__ import annotations

from pathlib import Path

from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.media.sniff import MediaType, sniff_file
from encapsulate.video.probe import probe_video
from encapsulate.video.transcode import remux

# Container as ``probe_video`` names it -> the remux container of the output.
OUTPUT_CONTAINERS = {"mp4": "mp4", "mov": "mp4", "mpegts": "mpegts", "mpeg": "mpeg"}
# Media types whose originals can be scrubbed here (what ``sniff`` calls them).
SCRUBBABLE = frozenset({MediaType.MP4, MediaType.QUICKTIME, MediaType.MPEG_TS, MediaType.MPEG_PS})


def scrub_video(source: Path, target: Path) -> MediaType:
    """Write ``source`` to ``target`` without its metadata; the media type written.

    The coded video and audio packets are copied as they are. Raises
    ``UnsupportedMediaError`` for a container or codec that cannot be
    rewritten without re-encoding and ``MediaError`` for a broken file;
    ``target`` is removed on any failure.
    """
    source, target = Path(source), Path(target)
    media_type = sniff_file(source)
    probe = probe_video(source) if media_type in SCRUBBABLE else None
    container = OUTPUT_CONTAINERS.get(probe.container) if probe else None
    if probe is None or container is None:
        raise UnsupportedMediaError(
            f"{media_type.value} originals cannot be delivered with XDS metadata (the hub "
            "cannot remove their metadata without re-encoding); wrap them as DICOM instead"
        )
    try:
        try:
            remux(
                source,
                target,
                container=container,
                has_audio=probe.audio_codec is not None,
                copy_audio=True,
            )
        except MediaError:
            # The file probed clean, so what FFmpeg refuses is in practice a
            # stream the output container cannot hold as it is (PCM audio or
            # ProRes in MP4); either way the capture cannot go out this way.
            raise UnsupportedMediaError(
                f"the {probe.codec} video with {probe.audio_codec or 'no'} audio cannot be "
                f"rewritten as {container.upper()} without re-encoding; wrap it as DICOM instead"
            ) from None
        _check_clean(target)
        return sniff_file(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _check_clean(target: Path) -> None:
    """Refuse to deliver an output that still carries metadata: a hub bug, not the capture's."""
    written = probe_video(target)  # its private keys include XMP and uuid boxes
    left = list(written.private_keys)
    if written.make or written.model or written.captured_at:
        left.append("make, model or creation date")
    if left:
        raise MediaError(
            f"the rewritten video still holds {', '.join(sorted(set(left)))}; "
            "this is a bug in the hub, not in the capture"
        )
