"""Every kind of video becomes a valid video IOD: passed through, remuxed or transcoded."""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import generate_fragments

from encapsulate import CaptureContext, InstanceIdentity, WrittenInstance, parse_context, wrap
from tests.dicom_checks import dciodvfy_errors, psnr
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media_video import MAKE, MODEL, PRIVATE_VIDEO_STRINGS, VideoLibrary

VIDEO_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4.1"
VIDEO_ENDO = "1.2.840.10008.5.1.4.1.1.77.1.1.1"
MF_SC = "1.2.840.10008.5.1.4.1.1.7.4"
HP41, HP42, HEVC, MPML, MPHL = (
    "1.2.840.10008.1.2.4.102",
    "1.2.840.10008.1.2.4.104",
    "1.2.840.10008.1.2.4.107",
    "1.2.840.10008.1.2.4.100",
    "1.2.840.10008.1.2.4.101",
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> VideoLibrary:
    return VideoLibrary(tmp_path_factory.mktemp("videos"))


@dataclass(frozen=True)
class Case:
    name: str
    syntax: str
    action: str  # passthrough | remux | transcode
    rows: int
    columns: int
    frames: int
    frame_time: float  # ms


CASES = [
    Case("h264_baseline.mp4", HP41, "passthrough", 240, 320, 30, 1000 / 30),
    Case("h264_main.mp4", HP41, "passthrough", 240, 320, 30, 1000 / 30),
    Case("h264_high_audio.mp4", HP41, "passthrough", 240, 320, 30, 1000 / 30),
    Case("h264_high.ts", HP41, "passthrough", 240, 320, 30, 1000 / 30),
    Case("h264_1080p60.mp4", HP42, "passthrough", 1080, 1920, 12, 1000 / 60),
    Case("h264_4k.mp4", HP41, "transcode", 1080, 1920, 3, 1000 / 30),
    Case("h264_high10.mp4", HP41, "transcode", 240, 320, 9, 1000 / 30),
    Case("phone_portrait.mov", HP41, "transcode", 320, 240, 30, 1000 / 30),
    Case("phone_gps.mov", HP41, "remux", 240, 320, 30, 1000 / 30),
    Case("xmp.mp4", HP41, "remux", 240, 320, 30, 1000 / 30),
    Case("hevc_main.mp4", HEVC, "passthrough", 240, 320, 15, 1000 / 30),
    Case("hevc_main10.mp4", HP41, "transcode", 240, 320, 15, 1000 / 30),
    Case("vp8.webm", HP41, "transcode", 240, 320, 15, 1000 / 30),
    Case("vp9.webm", HP41, "transcode", 240, 320, 15, 1000 / 30),
    Case("mpeg2_mpml.mpg", MPML, "passthrough", 576, 720, 10, 40.0),
    Case("mpeg2_mpml.ts", MPML, "passthrough", 576, 720, 10, 40.0),
    Case("mpeg2_mphl.ts", MPHL, "passthrough", 1080, 1920, 10, 40.0),
    Case("mjpeg.avi", HP41, "transcode", 240, 320, 10, 40.0),
]


def _wrap(
    source: Path, context: CaptureContext, out: Path
) -> tuple[WrittenInstance, pydicom.Dataset, bytes]:
    out.mkdir(exist_ok=True)
    [written] = wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    # The digest taken while writing is the file's (the hub stores it, reading nothing again).
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()
    dataset = pydicom.dcmread(written.path)
    stream = b"".join(generate_fragments(dataset.PixelData))
    return written, dataset, stream


def _first_frame(data: bytes | Path) -> np.ndarray:
    """The first picture's luma, 8 bit: video PSNR is measured on Y, as codecs report it
    (RGB would add the source's chroma-upsampling differences to the codec's error)."""
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else str(data)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="gray")


def _video_packets(data: bytes | Path) -> list[bytes]:
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else str(data)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def _ffprobe_ok(stream: bytes, tmp: Path) -> str:
    """ffprobe's codec line for the stored stream (dciodvfy cannot parse HEVC syntaxes)."""
    path = tmp / "stored.bin"
    path.write_bytes(stream)
    done = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,profile,width,height",
            "-select_streams",
            "v:0",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_video_is_wrapped(
    tmp_path: Path, context: CaptureContext, videos: VideoLibrary, case: Case
) -> None:
    source = videos(case.name)
    written, ds, stream = _wrap(source, context, tmp_path / "out")

    assert written.sop_class_uid == ds.SOPClassUID == VIDEO_PHOTO
    assert written.transfer_syntax_uid == ds.file_meta.TransferSyntaxUID == case.syntax
    if case.syntax == HEVC:
        assert _ffprobe_ok(stream, tmp_path) == "hevc,Main,320,240"
    else:
        assert dciodvfy_errors(written.path) == []
    assert (ds.Rows, ds.Columns, ds.NumberOfFrames) == (case.rows, case.columns, case.frames)
    assert float(ds.FrameTime) == pytest.approx(case.frame_time, rel=1e-4)
    assert ds.FrameIncrementPointer == 0x00181063
    assert ds.CineRate == round(1000 / case.frame_time)
    assert (ds.PhotometricInterpretation, ds.SamplesPerPixel, ds.BitsAllocated) == (
        "YBR_PARTIAL_420",
        3,
        8,
    )
    assert "PixelAspectRatio" not in ds
    assert ds.LossyImageCompression == "01"
    assert len(ds.AnatomicRegionSequence) == 1
    assert len(_video_packets(stream)) == ds.NumberOfFrames

    derived = case.action == "transcode"
    assert written.derived is derived
    assert list(ds.ImageType) == ["DERIVED" if derived else "ORIGINAL", "PRIMARY"]
    if case.action == "passthrough":
        data = source.read_bytes()
        assert stream[: len(data)] == data and len(stream) - len(data) <= 1
    elif case.action == "remux":
        assert _video_packets(stream) == _video_packets(source)
        assert "DerivationDescription" not in ds
    else:
        assert (
            "DerivationDescription" in ds and "Transcoded with FFmpeg" in ds.DerivationDescription
        )
        reference = _first_frame(source)
        if "portrait" in case.name:
            reference = np.rot90(reference, k=-1)  # the phone's 90 degrees clockwise
        decoded = _first_frame(stream)
        if reference.shape != decoded.shape:
            reference = np.asarray(
                Image.fromarray(reference).resize(
                    (decoded.shape[1], decoded.shape[0]), Image.Resampling.LANCZOS
                )
            )
        assert psnr(decoded, reference) >= 30

    everything = written.path.read_bytes()
    for text in PRIVATE_VIDEO_STRINGS:
        assert text.encode() not in everything, f"{text!r} is left"
    assert [p.name for p in written.path.parent.iterdir()] == [written.path.name]


def test_phone_metadata_becomes_attributes(
    tmp_path: Path, context: CaptureContext, videos: VideoLibrary
) -> None:
    _, ds, _ = _wrap(videos("phone_portrait.mov"), context, tmp_path / "out")
    assert (ds.Manufacturer, ds.ManufacturerModelName) == (MAKE, MODEL)
    # QuickTime's local creation date, not the context's capture time.
    assert ds.AcquisitionDateTime == "20261128101500+0100"
    assert "rotated 90 degrees clockwise" in ds.DerivationDescription
    assert "from H.264 High" in ds.DerivationDescription


@pytest.mark.parametrize(
    ("specialty", "sop_class", "modality"),
    # A phone's POCUS video is a screen capture (iods.choice.probe_export): MF True Color SC.
    [("endoscopy", VIDEO_ENDO, "ES"), ("pocus", MF_SC, "US"), ("wound", VIDEO_PHOTO, "XC")],
)
def test_specialty_chooses_the_iod(
    tmp_path: Path, videos: VideoLibrary, specialty: str, sop_class: str, modality: str
) -> None:
    context = parse_context({**FULL_CONTEXT, "specialty": specialty, "body_site": None})
    written, ds, _ = _wrap(videos("h264_high_audio.mp4"), context, tmp_path / "out")
    assert (ds.SOPClassUID, ds.Modality) == (sop_class, modality)
    assert dciodvfy_errors(written.path) == []
    # No body site: an honest "Topography unknown", since the sequence is required.
    [region] = ds.AnatomicRegionSequence
    assert (region.CodingSchemeDesignator, region.CodeValue) == ("SCT", "87100004")
