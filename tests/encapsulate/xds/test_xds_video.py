"""Video originals over XDS / MHD: the same coded packets, none of the container's metadata."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from encapsulate import InstanceIdentity, inspect_media, parse_context
from encapsulate.errors import UnsupportedMediaError
from encapsulate.media.sniff import MediaType, sniff_file
from encapsulate.video.atoms import box_extras
from encapsulate.video.probe import probe_video
from encapsulate.xds.metadata import describe_original
from encapsulate.xds.mhd import mhd_provide_bundle
from encapsulate.xds.original import EXTENSIONS, scrubbed_original, write_scrubbed_original
from encapsulate.xds.policy import XdsPolicy
from tests.dicom_checks import assert_no_private_metadata
from tests.media_video import (
    MAKE,
    MODEL,
    PRIVATE_VIDEO_STRINGS,
    VideoLibrary,
    append_xmp_box,
    ffmpeg,
    make_rotated_phone_mov,
)

POLICY = XdsPolicy(source_id="1.2.3.4.5", assigning_authorities={"HOSP": "1.2.840.99999.7"})
CONTEXT = {
    "patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE"},
    "specialty": "wound",
    "captured_at": "2026-11-28T10:15:00+01:00",
    "description": "Wound dressing change",
}
# Everything a phone writes that identifies the place, the device or its owner.
PHONE_STRINGS = (*PRIVATE_VIDEO_STRINGS, MAKE, MODEL, "com.apple.quicktime")


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> VideoLibrary:
    return VideoLibrary(tmp_path_factory.mktemp("videos"))


@pytest.fixture
def phone_mov(tmp_path: Path) -> Path:
    """An iPhone-style portrait MOV: GPS, make, model, owner, camera serial, and XMP."""
    path = append_xmp_box(make_rotated_phone_mov(tmp_path / "IMG_0001.MOV"))
    data = path.read_bytes()
    for text in PHONE_STRINGS:
        assert text.encode() in data, f"the fixture lacks {text!r}"
    return path


def packets(path: Path, stream: str) -> list[str]:
    """Size, flags and MD5 of each coded packet of ``stream`` (e.g. ``v:0``), in order."""
    done = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", stream, "-show_packets"),
            *("-show_data_hash", "MD5", "-show_entries", "packet=size,flags,data_hash"),
            *("-of", "csv=p=0", str(path)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def scrub(source: Path, tmp_path: Path) -> tuple[MediaType, Path]:
    target = tmp_path / ".original.part"
    media_type = write_scrubbed_original(source, target)
    return media_type, target


def test_phone_mov_loses_its_metadata_and_keeps_its_packets(
    phone_mov: Path, tmp_path: Path
) -> None:
    media_type, target = scrub(phone_mov, tmp_path)

    # QuickTime in, MP4 out: the file is an ISO BMFF MP4, and says so.
    assert media_type is MediaType.MP4 is sniff_file(target)
    assert EXTENSIONS[media_type] == ".mp4"
    data = target.read_bytes()
    assert data[4:8] == b"ftyp" and data[8:12] != b"qt  "
    assert_no_private_metadata(data)
    for text in PHONE_STRINGS:
        assert text.encode() not in data, f"{text!r} is left"
    assert box_extras(target) == []
    stored = probe_video(target)
    assert stored.private_keys == ()
    assert (stored.make, stored.model, stored.captured_at) == (None, None, None)

    # The same coded pictures and sound, packet for packet; the display matrix kept.
    source = probe_video(phone_mov)
    assert (
        (stored.codec, stored.audio_codec) == (source.codec, source.audio_codec) == ("h264", "aac")
    )
    assert (stored.width, stored.height, stored.rotation) == (320, 240, 90)
    assert packets(target, "v:0") == packets(phone_mov, "v:0")
    assert len(packets(target, "v:0")) == source.frame_count == stored.frame_count == 30
    assert packets(target, "a:0") == packets(phone_mov, "a:0") != []


def test_the_same_original_gives_the_same_bytes(phone_mov: Path, tmp_path: Path) -> None:
    """-fflags +bitexact: no wall-clock time or version, so a retry stores identical bytes."""
    _, target = scrub(phone_mov, tmp_path)
    assert scrubbed_original(phone_mov) == (MediaType.MP4, target.read_bytes())


def test_scrubbed_video_is_described_and_bundled(phone_mov: Path, tmp_path: Path) -> None:
    media_type, target = scrub(phone_mov, tmp_path)
    info = inspect_media(target)
    assert (info.kind, info.mime_type) == ("video", "video/mp4")
    assert info.private_metadata == ()
    entry = describe_original(
        target,
        context=parse_context(CONTEXT),
        media_info=info,
        identity=InstanceIdentity.mint(),
        policy=POLICY,
    )
    data = target.read_bytes()
    assert entry.mime_type == media_type.value == "video/mp4"
    assert (entry.size, entry.hash) == (len(data), hashlib.sha1(data).hexdigest())
    assert entry.service_stop_time > entry.service_start_time  # the video's duration
    bundle = mhd_provide_bundle(entry, policy=POLICY, data=data)
    Bundle.model_validate(bundle)
    [document] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    assert document["content"][0]["attachment"]["contentType"] == "video/mp4"
    [binary] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary"]
    assert binary["contentType"] == "video/mp4"
    assert base64.b64decode(binary["data"]) == data


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("xmp.mp4", MediaType.MP4),
        ("hevc_main.mp4", MediaType.MP4),
        ("h264_high.ts", MediaType.MPEG_TS),
        ("mpeg2_mpml.mpg", MediaType.MPEG_PS),
    ],
)
def test_other_containers_keep_their_type_and_packets(
    videos: VideoLibrary, tmp_path: Path, name: str, media_type: MediaType
) -> None:
    source = videos(name)
    written, target = scrub(source, tmp_path)
    assert written is media_type is sniff_file(target)
    assert probe_video(target).private_keys == ()
    assert b"x:xmpmeta" not in target.read_bytes()
    assert packets(target, "v:0") == packets(source, "v:0") != []


@pytest.mark.parametrize("name", ["vp9.webm", "mjpeg.avi", "utvideo.mkv"])
def test_containers_the_video_module_cannot_write_are_refused(
    videos: VideoLibrary, tmp_path: Path, name: str
) -> None:
    target = tmp_path / ".original.part"
    with pytest.raises(UnsupportedMediaError, match=r"wrap (it|them) as DICOM"):
        write_scrubbed_original(videos(name), target)
    assert not target.exists()


def test_a_quicktime_mp4_cannot_hold_as_it_is_is_refused(tmp_path: Path) -> None:
    """PCM audio has no place in MP4 here: refused rather than re-encoded."""
    source = tmp_path / "pcm.mov"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=0.5"),
        *("-f", "lavfi", "-i", "sine=duration=0.5"),
        *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
        *("-c:a", "pcm_s16le", "-f", "mov", str(source)),
    )
    target = tmp_path / ".original.part"
    with pytest.raises(UnsupportedMediaError, match="pcm_s16le audio cannot be rewritten as MP4"):
        write_scrubbed_original(source, target)
    assert not target.exists()
