"""Rewrite a video with FFmpeg: a new container (remux), or new coded pictures (transcode).

Both drop every metadata key, chapter and unknown box (``-map_metadata -1``,
``-map_chapters -1``, only the first video and audio streams mapped), so GPS,
owner, serials and XMP never reach the archive; ``-fflags +bitexact`` keeps
FFmpeg's own version string and a wall-clock creation time out, so the same
input gives the same bytes. The output goes to a file the caller names (a
hidden temporary file next to the DICOM output) and is removed on failure.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from encapsulate.dicom.enums import LossyImageCompressionMethod
from encapsulate.errors import MediaError
from encapsulate.video.policy import TranscodeTarget
from encapsulate.video.probe import SUPPORTED_CODECS, VideoProbe

# ffmpeg muxer for each output container the policy names.
_MUXERS = {"mp4": "mp4", "mpegts": "mpegts", "mpeg": "vob"}
# x264 within H.264 High level 4.1/4.2 limits (ITU-T H.264 Table A-1, MaxBR
# 62.5 Mbit/s and MaxCPB 78.1 Mbit for High): capped constant quality.
_X264 = ["-preset", "faster", "-crf", "18", "-maxrate", "50M", "-bufsize", "62M"]
X264_METHOD = LossyImageCompressionMethod.H264


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise RuntimeError("ffmpeg (FFmpeg) is not installed")
    return found


def _run(arguments: list[str], target: Path, what: str) -> Path:
    command = [_ffmpeg(), "-nostdin", "-hide_banner", "-v", "error", "-y", *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        target.unlink(missing_ok=True)
        lines = done.stderr.strip().splitlines() or ["no output"]
        raise MediaError(f"the video could not be {what} ({lines[-1].strip()})")
    return target


def _common_outputs(container: str) -> list[str]:
    options = ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    if container == "mp4":
        # moov first: a viewer can start playing while the rest streams in.
        options += ["-movflags", "+faststart"]
    return [*options, "-f", _MUXERS[container]]


def remux(source: Path, target: Path, *, container: str, has_audio: bool, copy_audio: bool) -> Path:
    """The same coded pictures (``-c:v copy``) in a new ``container``, without metadata."""
    audio = ["-map", "0:a:0"] if has_audio else []
    audio_codec = ["-c:a", "copy" if copy_audio else "aac"] if has_audio else []
    arguments = ["-i", str(source), "-map", "0:v:0", *audio, "-c:v", "copy", *audio_codec]
    if container == "mp4":
        # Apple's sample entry for HEVC ('hvc1') is the one players expect in MP4.
        arguments += ["-tag:v", "hvc1"] if _is_hevc(source) else []
    return _run([*arguments, *_common_outputs(container), str(target)], target, "remuxed")


def _is_hevc(source: Path) -> bool:
    done = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() == "hevc"


def transcode_filters(target: TranscodeTarget, source_rate: float) -> str:
    """The filter chain: (autorotate), scale to the upright target, video range, fps cap."""
    filters = [
        f"scale={target.width}:{target.height}:flags=lanczos:out_range=tv",
        "format=yuv420p",
    ]
    if source_rate > float(target.frame_rate):
        filters.append(f"fps={target.frame_rate}")
    return ",".join(filters)


def transcode(
    source: Path, target_path: Path, *, target: TranscodeTarget, source_rate: float, has_audio: bool
) -> Path:
    """Decode and encode as H.264 High Profile in MP4 (PS3.5 8.2.7 / 8.2.8).

    FFmpeg's autorotate turns the pixels by the display matrix before the
    scale, and writes no matrix on the output, so the stream is upright.
    """
    audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k"] if has_audio else []
    arguments = [
        "-i",
        str(source),
        "-map",
        "0:v:0",
        *audio,
        "-vf",
        transcode_filters(target, source_rate),
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-level:v",
        f"{target.level / 10:.1f}",
        *_X264,
        *_common_outputs("mp4"),
        str(target_path),
    ]
    return _run(arguments, target_path, "transcoded")


def derivation_text(source: VideoProbe, stream: VideoProbe, rotation: int) -> str:
    """Derivation Description (0008,2111) for a transcoded stream: method and source."""
    codec = SUPPORTED_CODECS.get(source.codec, source.codec)
    profile = f" {source.profile}" if source.profile else ""
    turned = f", rotated {rotation} degrees clockwise" if rotation else ""
    return (
        f"Transcoded with FFmpeg libx264 from {codec}{profile} {source.pix_fmt} "
        f"{source.width}x{source.height} ({source.container}){turned} "
        f"to H.264 High Profile yuv420p {stream.width}x{stream.height} in MP4"
    )
