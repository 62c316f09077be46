"""What a video file holds, read with ffprobe (FFmpeg) without decoding it.

ffprobe's JSON gives the container, the first video stream's codec, profile,
level (as coded in the SPS: H.264 ``level_idc``, HEVC ``general_level_idc``
= 30 x level, MPEG-2 ``level`` 4 High / 6 High-1440 / 8 Main / 10 Low),
pixel format, display matrix and the container's metadata keys. The facts are
kept in ``VideoProbe`` so the transfer syntax policy (``video.policy``) can
stay a pure function of them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.media.info import MediaInfo
from encapsulate.video.atoms import box_extras

# Codecs a camera, phone, endoscopy tower or ultrasound cart records, and
# which FFmpeg decodes: these are wrapped as is or transcoded. Anything else
# (screen-capture and editing intermediates such as Ut Video, HuffYUV, PNG
# sequences) is refused with its name, rather than guessed at.
SUPPORTED_CODECS = {
    "h264": "H.264",
    "hevc": "HEVC",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "mpeg4": "MPEG-4 Part 2",
    "h263": "H.263",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mjpeg": "Motion JPEG",
    "prores": "ProRes",
    "dnxhd": "DNxHD",
    "ffv1": "FFV1",
    "theora": "Theora",
}

# Container keys that carry no personal data; any other key (GPS, owner,
# comment, serial, content identifier, ...) makes the hub rewrite the
# container without metadata (PS3.15 E, STANDARDS.md "Privacy").
HARMLESS_KEYS = frozenset(
    {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "creation_time",
        "encoder",
        "handler_name",
        "vendor_id",
        "language",
        "duration",
        "rotate",
        "service_name",
        "service_provider",
        "com.apple.quicktime.make",
        "com.apple.quicktime.model",
        "com.apple.quicktime.software",
        "com.apple.quicktime.creationdate",
        "com.android.version",
        "com.android.capture.fps",
    }
)
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")


@dataclass(frozen=True)
class VideoProbe:
    """The first video stream and its container, as ffprobe reports them.

    ``rotation`` is the clockwise display rotation in degrees (0, 90, 180,
    270) from the display matrix or the legacy ``rotate`` tag.
    ``private_keys`` names metadata that must not reach the archive.
    """

    container: str
    codec: str
    profile: str | None
    level: int | None
    width: int
    height: int
    pix_fmt: str
    bit_depth: int
    frame_rate: Fraction
    frame_count: int
    duration_seconds: float
    rotation: int
    progressive: bool
    audio_codec: str | None
    size_bytes: int
    captured_at: datetime | None
    make: str | None
    model: str | None
    private_keys: tuple[str, ...]

    @property
    def upright_size(self) -> tuple[int, int]:
        """(width, height) once the display rotation is applied."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


def _ffprobe(path: Path, *extra: str) -> dict[str, Any]:
    if shutil.which("ffprobe") is None:
        raise RuntimeError("ffprobe (FFmpeg) is not installed")
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", *extra, str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if done.returncode != 0:
        # The first message names the cause ("moov atom not found"); drop
        # ffprobe's "[demuxer @ 0x...]" and path prefixes.
        detail = (done.stderr.strip().splitlines() or ["unreadable"])[0]
        detail = re.sub(r"^\[[^]]*\]\s*", "", detail).replace(f"{path}: ", "").strip()
        raise MediaError(f"the video file is broken or truncated ({detail})")
    return json.loads(done.stdout or "{}")


def _rotation(stream: dict[str, Any]) -> int:
    tags = stream.get("tags", {})
    if "rotate" in tags:
        return int(float(tags["rotate"])) % 360
    for side in stream.get("side_data_list", []):
        if side.get("side_data_type") == "Display Matrix" and "rotation" in side:
            # FFmpeg reports the matrix angle counter-clockwise; the ``rotate``
            # tag it replaced (and phones' meaning) is clockwise.
            return round(-float(side["rotation"])) % 360
    return 0


def _rate(text: str | None) -> Fraction | None:
    if not text or text in ("0/0", "0"):
        return None
    value = Fraction(text)
    return value if value > 0 else None


def _bit_depth(stream: dict[str, Any]) -> int:
    raw = stream.get("bits_per_raw_sample")
    if raw and str(raw).isdigit() and int(raw) > 0:
        return int(raw)
    pix_fmt = stream.get("pix_fmt", "")
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # Apple writes +0100
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.year < 1971:  # a zero QuickTime / MP4 creation time
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = tags.get(key, "").strip()
        if value:
            return value
    return None


def _frame_count(path: Path, stream: dict[str, Any], rate: Fraction, duration: float) -> int:
    listed = stream.get("nb_frames")
    if listed and str(listed).isdigit() and int(listed) > 0:
        return int(listed)
    # Program/transport streams and Matroska list no frame count: count the
    # video packets (a demux, no decode).
    counted = _ffprobe(
        path, "-count_packets", "-select_streams", "v:0", "-show_entries", "stream=nb_read_packets"
    )
    for entry in counted.get("streams", []):
        packets = entry.get("nb_read_packets")
        if packets and str(packets).isdigit() and int(packets) > 0:
            return int(packets)
    return max(1, round(duration * float(rate)))


def probe_video(path: Path) -> VideoProbe:
    """Describe the video at ``path``.

    Raises ``MediaError`` when the container is broken or holds no video
    stream, and ``UnsupportedMediaError`` naming a codec the hub does not take.
    """
    path = Path(path)
    data = _ffprobe(path, "-show_format", "-show_streams")
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not videos:
        raise MediaError("the file holds no video stream")
    video = videos[0]
    codec = video.get("codec_name", "unknown")
    if codec not in SUPPORTED_CODECS:
        raise UnsupportedMediaError(
            f"the video codec {codec} is not supported; record or export the video as H.264 MP4"
        )
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaError("the video stream has no picture size (the file is probably truncated)")
    rate = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    if rate is None:
        raise MediaError("the video stream has no frame rate (the file is probably truncated)")
    duration = float(video.get("duration") or fmt.get("duration") or 0.0)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    format_tags = {k.lower(): str(v) for k, v in fmt.get("tags", {}).items()}
    all_tags = [format_tags] + [
        {k.lower(): str(v) for k, v in s.get("tags", {}).items()} for s in streams
    ]
    private = sorted({key for tags in all_tags for key in tags if key not in HARMLESS_KEYS})
    container = str(fmt.get("format_name", "unknown"))
    if container.startswith("mov,"):
        container = "mov" if format_tags.get("major_brand", "").startswith("qt") else "mp4"
        private.extend(box_extras(path))
    level = video.get("level")
    return VideoProbe(
        container=container,
        codec=codec,
        profile=video.get("profile"),
        level=int(level) if isinstance(level, int) and level >= 0 else None,
        width=width,
        height=height,
        pix_fmt=str(video.get("pix_fmt", "unknown")),
        bit_depth=_bit_depth(video),
        frame_rate=rate,
        frame_count=_frame_count(path, video, rate, duration),
        duration_seconds=duration,
        rotation=_rotation(video),
        progressive=video.get("field_order", "progressive") in ("progressive", "unknown"),
        audio_codec=audio.get("codec_name") if audio else None,
        size_bytes=path.stat().st_size,
        captured_at=_parse_time(format_tags.get("com.apple.quicktime.creationdate"))
        or _parse_time(format_tags.get("creation_time")),
        make=_first(format_tags, _MAKE_KEYS),
        model=_first(format_tags, _MODEL_KEYS),
        private_keys=tuple(private),
    )


def media_info(probe: VideoProbe, mime_type: str) -> MediaInfo:
    """The hub's description of a probed video (upright = after display rotation)."""
    upright_width, upright_height = probe.upright_size
    return MediaInfo(
        kind="video",
        mime_type=mime_type,
        rows=probe.height,
        columns=probe.width,
        orientation=1,
        upright_rows=upright_height,
        upright_columns=upright_width,
        captured_at=probe.captured_at,
        make=probe.make,
        model=probe.model,
        private_metadata=probe.private_keys,
        duration_seconds=probe.duration_seconds,
        codec=probe.codec,
        profile=probe.profile,
        level=_level_text(probe),
        frame_rate=float(probe.frame_rate),
        frame_count=probe.frame_count,
        bit_depth=probe.bit_depth,
        rotation=probe.rotation,
        container=probe.container,
        has_audio=probe.audio_codec is not None,
    )


def _level_text(probe: VideoProbe) -> str | None:
    if probe.level is None:
        return None
    if probe.codec == "h264":
        return f"{probe.level / 10:g}"
    if probe.codec == "hevc":
        return f"{probe.level / 30:g}"
    if probe.codec == "mpeg2video":
        return {4: "High", 6: "High-1440", 8: "Main", 10: "Low"}.get(probe.level, str(probe.level))
    return str(probe.level)
