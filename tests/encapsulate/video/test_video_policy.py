"""The transfer syntax policy, as a table (PS3.5 8.2.5-8.2.11, STANDARDS.md "Video")."""

from __future__ import annotations

from fractions import Fraction

import pytest

from encapsulate.video.policy import (
    H264_HP41,
    H264_HP42_2D,
    HEVC_MP51,
    MPEG2_MPHL,
    MPEG2_MPML,
    Action,
    StreamFacts,
    choose_plan,
    fragmentable_syntax,
    h264_level_needed,
    transcode_target,
)

P, R, T = Action.PASSTHROUGH, Action.REMUX, Action.TRANSCODE


def facts(
    codec: str = "h264",
    profile: str | None = "High",
    level: int | None = 41,
    size: tuple[int, int] = (1920, 1080),
    rate: float = 30,
    **other: object,
) -> StreamFacts:
    values: dict[str, object] = {"pix_fmt": "yuv420p", "container": "mp4"} | other
    return StreamFacts(
        codec=codec,
        profile=profile,
        level=level,
        width=size[0],
        height=size[1],
        frame_rate=Fraction(rate).limit_denominator(1001),
        **values,  # type: ignore[arg-type]
    )


TABLE = [
    # H.264 that fits as it is
    ("1080p30 High 4.1", facts(), P, H264_HP41),
    ("720p30 Main 3.1", facts(profile="Main", level=31, size=(1280, 720)), P, H264_HP41),
    ("Constrained Baseline", facts(profile="Constrained Baseline", level=30), P, H264_HP41),
    ("1080p60 High 4.2", facts(level=42, rate=60), P, H264_HP42_2D),
    ("1080p59.94 High 4.2", facts(level=42, rate=60000 / 1001), P, H264_HP42_2D),
    ("H.264 in TS", facts(container="mpegts"), P, H264_HP41),
    # H.264 that does not
    ("1080p60 mislabelled 4.1", facts(level=41, rate=60), P, H264_HP42_2D),
    ("4K High 5.1", facts(level=51, size=(3840, 2160)), T, H264_HP41),
    ("4K60 High 5.2", facts(level=52, size=(3840, 2160), rate=60), T, H264_HP42_2D),
    ("1080p120 slow motion", facts(level=42, rate=120), T, H264_HP42_2D),
    ("1080i 4.2 interlaced", facts(level=42, rate=60, progressive=False), T, H264_HP42_2D),
    ("High 10", facts(profile="High 10", pix_fmt="yuv420p10le"), T, H264_HP41),
    ("High 4:2:2", facts(profile="High 4:2:2", pix_fmt="yuv422p"), T, H264_HP41),
    ("Baseline with FMO/ASO", facts(profile="Baseline", level=30), T, H264_HP41),
    ("full range yuvj420p", facts(pix_fmt="yuvj420p"), T, H264_HP41),
    ("rotated phone video", facts(rotation=90), T, H264_HP41),
    # Containers, audio and metadata: same coded pictures, new container
    ("QuickTime mov", facts(container="mov"), R, H264_HP41),
    ("H.264 in Matroska", facts(container="matroska,webm"), R, H264_HP41),
    ("Opus audio in MP4", facts(audio_codec="opus"), R, H264_HP41),
    ("AAC audio in MP4", facts(audio_codec="aac"), P, H264_HP41),
    ("GPS in the container", facts(private_metadata=True), R, H264_HP41),
    # HEVC
    ("HEVC Main 5.1", facts("hevc", "Main", 153, (3840, 2160)), P, HEVC_MP51),
    ("HEVC Main 6.1", facts("hevc", "Main", 183, (7680, 4320)), T, H264_HP41),
    ("HEVC Main 10", facts("hevc", "Main 10", 150, pix_fmt="yuv420p10le"), T, H264_HP41),
    ("HEVC over 4 GB", facts("hevc", "Main", 123, size_bytes=2**32), T, H264_HP41),
    # MPEG-2 (any MPEG container is allowed)
    (
        "MPEG-2 MP@ML PS",
        facts("mpeg2video", "Main", 8, (720, 576), 25, container="mpeg"),
        P,
        MPEG2_MPML,
    ),
    ("MPEG-2 MP@HL TS", facts("mpeg2video", "Main", 4, container="mpegts"), P, MPEG2_MPHL),
    ("MPEG-2 MP@H-14", facts("mpeg2video", "Main", 6, (1440, 1080), 25), T, H264_HP41),
    ("MPEG-2 4:2:2", facts("mpeg2video", "4:2:2", 8, pix_fmt="yuv422p"), T, H264_HP41),
    (
        "MPEG-2 in AVI",
        facts("mpeg2video", "Main", 8, (720, 576), 25, container="avi"),
        R,
        MPEG2_MPML,
    ),
    # No DICOM syntax at all
    ("VP8 WebM", facts("vp8", None, None, container="matroska,webm"), T, H264_HP41),
    ("VP9 WebM", facts("vp9", "Profile 0", None, container="matroska,webm"), T, H264_HP41),
    ("AV1", facts("av1", "Main", 8), T, H264_HP41),
    (
        "MJPEG AVI",
        facts("mjpeg", "Baseline", None, pix_fmt="yuvj422p", container="avi"),
        T,
        H264_HP41,
    ),
]


@pytest.mark.parametrize(("name", "stream", "action", "syntax"), TABLE, ids=[t[0] for t in TABLE])
def test_policy_table(name: str, stream: StreamFacts, action: Action, syntax: str) -> None:
    plan = choose_plan(stream)
    assert (plan.action, plan.transfer_syntax) == (action, syntax), plan.reason
    assert plan.reason and "\n" not in plan.reason
    assert (plan.target is not None) is (action is T)


def test_bd_compatible_is_never_chosen() -> None:
    for _, stream, _, _ in TABLE:
        assert not choose_plan(stream).transfer_syntax.endswith(".103")


@pytest.mark.parametrize(
    ("size", "rotation", "rate", "expected"),
    [
        ((3840, 2160), 0, 30, (1920, 1080, 30, 41)),
        ((3840, 2160), 90, 30, (1080, 1920, 30, 41)),
        ((1920, 1080), 0, 60, (1920, 1080, 60, 42)),
        ((1920, 1080), 0, 240, (1920, 1080, 60, 42)),
        ((320, 240), 270, 30, (240, 320, 30, 41)),
        ((4096, 2160), 0, 25, (1920, 1012, 25, 41)),
        ((333, 251), 0, 30, (332, 250, 30, 41)),
    ],
)
def test_transcode_target_fits_the_box_and_level(
    size: tuple[int, int], rotation: int, rate: int, expected: tuple[int, int, int, int]
) -> None:
    target = transcode_target(facts(size=size, rate=rate, rotation=rotation))
    assert (target.width, target.height, target.frame_rate, target.level) == expected
    assert h264_level_needed(target.width, target.height, target.frame_rate) == target.level


def test_over_one_fragment_uses_the_fragmentable_twin() -> None:
    plan = choose_plan(facts(size_bytes=5000), fragment_limit=4096)
    assert plan.fragmentable and plan.action is P
    assert fragmentable_syntax(plan.transfer_syntax) == "1.2.840.10008.1.2.4.102.1"
    with pytest.raises(ValueError, match="no fragmentable twin"):
        fragmentable_syntax(HEVC_MP51)
