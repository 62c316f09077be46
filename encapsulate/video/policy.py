"""Which DICOM video transfer syntax a stream fits, and what to do when none does.

A pure function of the probed facts (``choose_plan``), so it is tested with a
table. The rules are PS3.5 8.2.5-8.2.11 as summarised in STANDARDS.md
("Video"):

- H.264 High Profile (and its subsets Main and Constrained Baseline, which
  every High decoder decodes) at level <= 4.1: MPEG-4 AVC/H.264 High Profile
  / Level 4.1, 1.2.840.10008.1.2.4.102 (PS3.5 8.2.7).
- H.264 at level 4.2, progressive, at most 1920x1080 and 60 frames/s:
  Level 4.2 For 2D Video, .104 (PS3.5 8.2.8).
- HEVC Main (8 bit) at level <= 5.1: .107 (PS3.5 8.2.10). Main 10 (.108)
  is not used: the VL and US IODs require 8 bits (PS3.3 C.8.12.1.1).
- MPEG-2 Main Profile at Main Level: .100; at High Level: .101 (PS3.5 8.2.5).
- BD-compatible .103 is never chosen: its constraints (exact frame sizes,
  frame rates, GOP and bit-rate rules of the Blu-ray spec) cannot be proven
  from the headers, and every stream it admits also fits .102.

The level a stream needs is recomputed from its macroblock rate (ITU-T H.264
Table A-1), so a stream that claims level 4.1 but runs 1080p at 60 frames/s
is not trusted. Anything else is transcoded to H.264 High (DERIVED). Over the
fragment limit (2^32 - 2 bytes, PS3.5 A.4) the fragmentable twin of the
syntax (PS3.5 8.2.5-8.2.8, UID + ``.1``) lets the stream span fragments; HEVC
has none, so a long HEVC recording is transcoded to H.264.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from pydicom.uid import HEVCMP51, MPEG2MPHL, MPEG2MPML, MPEG4HP41, MPEG4HP422D

MPEG2_MPML = MPEG2MPML
MPEG2_MPHL = MPEG2MPHL
H264_HP41 = MPEG4HP41
H264_HP42_2D = MPEG4HP422D
HEVC_MP51 = HEVCMP51
# PS3.5 A.4: one fragment holds at most 2^32 - 2 bytes (even length, < 0xFFFFFFFF).
MAX_FRAGMENT = 2**32 - 2
FRAGMENTABLE = {MPEG2_MPML, MPEG2_MPHL, H264_HP41, H264_HP42_2D}

_H264_PROFILES = {"High", "Main", "Constrained Baseline"}
# ITU-T H.264 Table A-1: MaxMBPS (macroblocks/s) and MaxFS (macroblocks).
_H264_LEVELS = {41: (245_760, 8_192), 42: (522_240, 8_704)}
_HEVC_MAX_LEVEL = 153  # general_level_idc = 30 x 5.1
_MPEG2_MAIN, _MPEG2_HIGH = 8, 4
# Containers each syntax allows (PS3.5 8.2.5-8.2.11).
_MP4_OR_TS = {"mp4", "mpegts"}
_MPEG2_CONTAINERS = {"mpeg", "mpegts", "mp4", "mpegvideo"}
_MP4_AUDIO = {"aac"}
_MPEG_AUDIO = {"aac", "mp2", "mp3", "ac3"}
MAX_FRAME_RATE = 60
_NAMES = {
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mjpeg": "Motion JPEG",
    "mpeg4": "MPEG-4 Part 2",
}
BOX_LONG, BOX_SHORT = 1920, 1080


class Action(StrEnum):
    PASSTHROUGH = "passthrough"  # the file's bytes become Pixel Data as they are
    REMUX = "remux"  # same coded pictures, new container (no metadata)
    TRANSCODE = "transcode"  # decoded and re-encoded as H.264 High: DERIVED


@dataclass(frozen=True)
class StreamFacts:
    """What the policy needs to know of a video (see ``video.probe.VideoProbe``)."""

    codec: str
    profile: str | None
    level: int | None
    width: int
    height: int
    pix_fmt: str
    frame_rate: Fraction
    container: str
    rotation: int = 0
    progressive: bool = True
    audio_codec: str | None = None
    private_metadata: bool = False
    size_bytes: int = 0


@dataclass(frozen=True)
class TranscodeTarget:
    """H.264 High output: the upright size to scale to, frame rate, level."""

    width: int
    height: int
    frame_rate: Fraction
    level: int  # 41 or 42

    @property
    def transfer_syntax(self) -> str:
        return H264_HP41 if self.level == 41 else H264_HP42_2D


@dataclass(frozen=True)
class Plan:
    """What to do with a stream: ``reason`` is one line a person can read."""

    action: Action
    transfer_syntax: str
    container: str  # "mp4" or "mpegts" or "mpeg" (the output's)
    reason: str
    target: TranscodeTarget | None = None
    fragmentable: bool = False
    copy_audio: bool = True  # False: the audio track is re-encoded as AAC


def _macroblocks(width: int, height: int) -> int:
    return math.ceil(width / 16) * math.ceil(height / 16)


def h264_level_needed(width: int, height: int, frame_rate: Fraction) -> int | None:
    """The lowest of levels 4.1 / 4.2 whose MaxFS and MaxMBPS admit the stream."""
    frame_size = _macroblocks(width, height)
    for level, (max_mbps, max_fs) in sorted(_H264_LEVELS.items()):
        if frame_size <= max_fs and frame_size * frame_rate <= max_mbps:
            return level
    return None


def _h264_syntax(facts: StreamFacts) -> tuple[str | None, str]:
    if facts.profile not in _H264_PROFILES:
        return None, f"H.264 {facts.profile} profile has no DICOM transfer syntax"
    needed = h264_level_needed(facts.width, facts.height, facts.frame_rate)
    if needed is None or facts.level is None or facts.level > 42:
        claimed = f"{facts.level / 10:g}" if facts.level else "unknown"
        return None, f"H.264 at level {claimed} ({facts.width}x{facts.height}) exceeds level 4.2"
    level = max(needed, facts.level)
    if level <= 41:
        return H264_HP41, "H.264 fits High Profile / Level 4.1"
    fits_2d = (
        facts.progressive
        and max(facts.width, facts.height) <= BOX_LONG
        and min(facts.width, facts.height) <= BOX_SHORT
        and facts.frame_rate <= MAX_FRAME_RATE
    )
    if fits_2d:
        return H264_HP42_2D, "H.264 fits High Profile / Level 4.2 for 2D video"
    return None, "H.264 level 4.2 is allowed only for progressive video up to 1920x1080 at 60 fps"


def _fitting_syntax(facts: StreamFacts) -> tuple[str | None, str]:
    """The transfer syntax the coded stream fits as it is, or None and why not."""
    if facts.pix_fmt != "yuv420p":
        return None, f"pixel format {facts.pix_fmt} is not 8-bit 4:2:0 video range"
    if facts.codec == "h264":
        return _h264_syntax(facts)
    if facts.codec == "hevc":
        if facts.profile == "Main" and facts.level is not None and facts.level <= _HEVC_MAX_LEVEL:
            return HEVC_MP51, "HEVC fits Main Profile / Level 5.1"
        return None, f"HEVC {facts.profile} at this level has no 8-bit DICOM transfer syntax"
    if facts.codec == "mpeg2video" and facts.profile == "Main":
        if facts.level == _MPEG2_MAIN:
            return MPEG2_MPML, "MPEG-2 fits Main Profile / Main Level"
        if facts.level == _MPEG2_HIGH:
            return MPEG2_MPHL, "MPEG-2 fits Main Profile / High Level"
    if facts.codec == "mpeg2video":
        return None, f"MPEG-2 {facts.profile} profile at this level has no DICOM transfer syntax"
    return None, f"{_NAMES.get(facts.codec, facts.codec)} video has no DICOM transfer syntax"


def transcode_target(facts: StreamFacts) -> TranscodeTarget:
    """H.264 High at level 4.1 when it fits, else 4.2: upright, within 1920x1080, <= 60 fps.

    Never upscales; dimensions are even (4:2:0 chroma).
    """
    width, height = facts.width, facts.height
    if facts.rotation in (90, 270):
        width, height = height, width
    box_w, box_h = (BOX_LONG, BOX_SHORT) if width >= height else (BOX_SHORT, BOX_LONG)
    scale = min(1.0, box_w / width, box_h / height)
    out_w = max(2, int(width * scale) // 2 * 2)
    out_h = max(2, int(height * scale) // 2 * 2)
    rate = min(facts.frame_rate, Fraction(MAX_FRAME_RATE))
    level = h264_level_needed(out_w, out_h, rate) or 42
    return TranscodeTarget(width=out_w, height=out_h, frame_rate=rate, level=level)


def _transcode(facts: StreamFacts, reason: str) -> Plan:
    target = transcode_target(facts)
    return Plan(
        action=Action.TRANSCODE,
        transfer_syntax=target.transfer_syntax,
        container="mp4",
        reason=reason,
        target=target,
        # The output's size is known only afterwards; the writer decides.
        fragmentable=False,
        copy_audio=False,
    )


def choose_plan(facts: StreamFacts, *, fragment_limit: int = MAX_FRAGMENT) -> Plan:
    """Passthrough, remux or transcode, with the transfer syntax of the result."""
    syntax, why = _fitting_syntax(facts)
    if syntax is None:
        return _transcode(facts, why)
    if facts.rotation:
        # DICOM has no display rotation for video; a remux keeps the matrix
        # but not every viewer honours it, and Rows/Columns must be upright.
        return _transcode(facts, f"the display rotation of {facts.rotation} degrees is applied")
    too_big = facts.size_bytes > fragment_limit
    if too_big and syntax not in FRAGMENTABLE:
        return _transcode(facts, "HEVC over 4 GB has no fragmentable DICOM transfer syntax")
    if facts.codec == "mpeg2video":
        allowed, audio, home = _MPEG2_CONTAINERS, _MPEG_AUDIO, "mpegts"
    else:
        allowed, audio, home = _MP4_OR_TS, _MP4_AUDIO, "mp4"
    if facts.container == "mpegts":
        audio = _MPEG_AUDIO
    reasons = []
    if facts.container not in allowed:
        reasons.append(f"{facts.container} container is rewritten as {home}")
    if facts.audio_codec is not None and facts.audio_codec not in audio:
        reasons.append(f"{facts.audio_codec} audio is re-encoded as AAC")
    if facts.private_metadata:
        reasons.append("private metadata is dropped")
    container = facts.container if facts.container in allowed else home
    if facts.audio_codec is not None and facts.audio_codec not in audio and container == "mpeg":
        container = "mpegts"
    return Plan(
        action=Action.REMUX if reasons else Action.PASSTHROUGH,
        transfer_syntax=syntax,
        container=container,
        reason="; ".join([why, *reasons]),
        fragmentable=too_big,
        copy_audio=facts.audio_codec is None or facts.audio_codec in audio,
    )


def fragmentable_syntax(transfer_syntax: str) -> str:
    """The fragmentable twin of an MPEG-2 or H.264 syntax (PS3.5 8.2.5-8.2.8)."""
    if transfer_syntax not in FRAGMENTABLE:
        raise ValueError(f"{transfer_syntax} has no fragmentable twin")
    return transfer_syntax + ".1"
