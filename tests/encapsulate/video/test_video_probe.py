"""Video inspection, sniffing, refusals, and Pixel Data over one fragment's limit."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import generate_fragments

from encapsulate import (
    CaptureContext,
    InstanceIdentity,
    MediaError,
    MediaType,
    Producer,
    UnsupportedMediaError,
    inspect_media,
    sniff_file,
    wrap,
)
from encapsulate.video.output import FileWindow, fragment_windows
from encapsulate.video.wrap import wrap_video
from tests.media_video import MAKE, MODEL, VideoLibrary


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> VideoLibrary:
    return VideoLibrary(tmp_path_factory.mktemp("videos"))


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("vp9.webm", MediaType.WEBM),
        ("utvideo.mkv", MediaType.MATROSKA),
        ("mjpeg.avi", MediaType.AVI),
        ("mpeg2_mpml.mpg", MediaType.MPEG_PS),
        ("mpeg2_mpml.ts", MediaType.MPEG_TS),
        ("phone_gps.mov", MediaType.QUICKTIME),
        ("h264_main.mp4", MediaType.MP4),
    ],
)
def test_containers_are_sniffed(videos: VideoLibrary, name: str, media_type: MediaType) -> None:
    assert sniff_file(videos(name)) is media_type


def test_inspect_a_phone_video(videos: VideoLibrary) -> None:
    info = inspect_media(videos("phone_portrait.mov"))
    assert (info.kind, info.mime_type, info.container) == ("video", "video/quicktime", "mov")
    assert (info.codec, info.profile, info.level, info.bit_depth) == ("h264", "High", "4.1", 8)
    assert (info.columns, info.rows, info.rotation) == (320, 240, 90)
    assert (info.upright_columns, info.upright_rows) == (240, 320)
    assert (info.frame_rate, info.frame_count, info.has_audio) == (30.0, 30, True)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert (info.make, info.model) == (MAKE, MODEL)
    assert info.captured_at is not None and info.captured_at.isoformat() == (
        "2026-11-28T10:15:00+01:00"
    )
    assert {"location", "com.apple.quicktime.location.iso6709", "author"} <= set(
        info.private_metadata
    )
    assert "com.apple.quicktime.make" not in info.private_metadata
    assert info.as_json()["codec"] == "h264"


def test_inspect_finds_xmp_and_counts_ts_frames(videos: VideoLibrary) -> None:
    assert "XMP packet" in inspect_media(videos("xmp.mp4")).private_metadata
    info = inspect_media(videos("mpeg2_mpml.ts"))
    assert (info.codec, info.level, info.frame_count, info.has_audio) == (
        "mpeg2video",
        "Main",
        10,
        False,
    )


@pytest.mark.parametrize(
    ("name", "error", "reason"),
    [
        (
            "truncated.mp4",
            MediaError,
            "the video file is broken or truncated (moov atom not found)",
        ),
        ("audio_only.mp4", MediaError, "the file holds no video stream"),
        ("utvideo.mkv", UnsupportedMediaError, "the video codec utvideo is not supported"),
    ],
)
def test_bad_video_is_refused_and_nothing_written(
    tmp_path: Path,
    context: CaptureContext,
    videos: VideoLibrary,
    name: str,
    error: type[Exception],
    reason: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(error) as caught:
        wrap(videos(name), context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert caught.type is error
    assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)
    with pytest.raises(error):
        inspect_media(videos(name))
    assert list(out.iterdir()) == []


def test_file_window_reads_its_range_only() -> None:
    stream = io.BytesIO(bytes(range(100)))
    windows = fragment_windows(stream, 100, 33)
    assert [len(w.read()) for w in windows] == [32, 32, 32, 4]
    window = FileWindow(stream, 10, 5)
    assert window.seek(0, 2) == 5 and window.read() == b""
    window.seek(1)
    assert window.read(2) == bytes([11, 12]) and window.read() == bytes([13, 14])


@pytest.mark.parametrize("name", ["h264_high_audio.mp4", "phone_gps.mov", "mpeg2_mpml.ts"])
def test_over_one_fragment_uses_the_fragmentable_syntax(
    tmp_path: Path, context: CaptureContext, videos: VideoLibrary, name: str
) -> None:
    """The 2^32 - 2 byte limit, lowered: the stream spans fragments of a ``.1`` syntax."""
    out = tmp_path / "out"
    out.mkdir()
    limit = 40_001  # odd on purpose: fragments must still be even
    [written] = wrap_video(
        videos(name),
        context=context,
        identity=InstanceIdentity.mint(),
        producer=Producer(),
        out_dir=out,
        fragment_limit=limit,
    )
    ds = pydicom.dcmread(written.path)
    assert ds.file_meta.TransferSyntaxUID == written.transfer_syntax_uid
    assert written.transfer_syntax_uid.endswith(".1")
    fragments = list(generate_fragments(ds.PixelData))
    assert len(fragments) > 1
    assert all(len(f) % 2 == 0 and len(f) <= limit for f in fragments)
    stream = b"".join(fragments)
    if name.endswith(".ts"):
        source = videos(name).read_bytes()
        assert stream[: len(source)] == source
    assert ds.NumberOfFrames > 1
