"""The video IODs: Video Photographic (PS3.3 A.32.7), Video Endoscopic (A.32.5)
and Ultrasound Multi-frame (A.7), for an MPEG-2 / H.264 / HEVC stream.

``build_video_dataset`` makes everything but Pixel Data, which the writer
(``video.wrap``) streams from the MP4 / MPEG file at write time. The
attributes describe the stream that goes into Pixel Data (after any remux
or transcode), never the file the phone sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.tag import Tag

from encapsulate.context.capture import BodySite, CaptureContext
from encapsulate.dicom.enums import (
    ConversionType,
    ImageLaterality,
    LossyImageCompression,
    LossyImageCompressionMethod,
    PatientExaminationCharacteristics,
    PhotometricInterpretation,
    PixelDataCharacteristics,
)
from encapsulate.dicom.modules import (
    add_anatomic_region,
    add_common_modules,
    capture_moment,
    da,
    dt,
    new_dataset,
    tm,
)
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.acquisition_context import acquisition_context
from encapsulate.iods.choice import POCUS_SCREEN_VIDEO, US_MULTIFRAME, IodChoice
from encapsulate.media.privacy import video_privacy_flags

if TYPE_CHECKING:
    # Only the type: the video path probes the stream and calls this module.
    from encapsulate.video.probe import VideoProbe

FRAME_TIME = Tag(0x0018, 0x1063)
SCREEN_VIDEO = "a video of the ultrasound scanner's screen, not the scanner's own images"
# Lossy Image Compression Method defined terms (PS3.3 C.7.6.1.1.5.1).
COMPRESSION_METHODS = {
    "h264": LossyImageCompressionMethod.H264,
    "hevc": LossyImageCompressionMethod.HEVC,
    "mpeg2video": LossyImageCompressionMethod.MPEG2,
}
# The camera's coding, as the first lossy step of a transcoded video. Codecs
# without a defined term get one named after their standard (defined terms
# may be extended, PS3.3 C.7.6.1.1.5.1); a lossless one (FFV1) is no step.
SOURCE_METHODS: dict[str, str | None] = {
    **COMPRESSION_METHODS,
    "mjpeg": LossyImageCompressionMethod.JPEG,
    "mpeg1video": "ISO_11172_2",
    "mpeg4": "ISO_14496_2",
    "h263": "ITU_T_H263",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "prores": "PRORES",
    "dnxhd": "SMPTE_ST_2019_1",
    "theora": "THEORA",
    "ffv1": None,
}
# SNOMED CT 87100004 "Topography unknown" (body structure): Anatomic Region
# Sequence is required once Number of Frames is present (PS3.3 C.8.12.1),
# and a capture without a body site must not pretend to know one.
UNKNOWN_REGION = BodySite(code="SCT:87100004", meaning="Topography unknown")


@dataclass(frozen=True)
class VideoOrigin:
    """How the Pixel Data stream came from the captured file."""

    derived: bool
    contribution: str  # ContributionDescription of the hub (PS3.3 C.12.1)
    derivation: str | None = None  # Derivation Description when derived


def _ds(value: float) -> str:
    # DS is at most 16 characters (PS3.5 6.2).
    return f"{value:.8g}"


def add_cine_and_multiframe(ds: Dataset, stream: VideoProbe) -> None:
    """Cine (C.7.6.5) and Multi-frame (C.7.6.6), from the stream in Pixel Data."""
    rate = float(stream.frame_rate)
    frame_time = 1000.0 / rate
    ds.NumberOfFrames = stream.frame_count
    ds.FrameIncrementPointer = FRAME_TIME
    ds.FrameTime = _ds(frame_time)
    ds.CineRate = max(1, round(rate))
    ds.RecommendedDisplayFrameRate = max(1, round(rate))
    ds.StartTrim = 1
    ds.StopTrim = stream.frame_count
    ds.ActualFrameDuration = max(1, round(frame_time))
    ds.PreferredPlaybackSequencing = 0  # looping


def add_video_pixel_module(ds: Dataset, stream: VideoProbe) -> None:
    """Image Pixel (C.7.6.3) as the VL and US Image modules constrain it for MPEG video.

    YBR_PARTIAL_420, 3 samples, 8 bits, planar 0, no Pixel Aspect Ratio
    (PS3.3 C.8.12.1.1, C.8.5.6.1, PS3.5 8.2.5-8.2.11). Rows and Columns are
    the coded picture's, which is upright (rotated streams are transcoded).
    """
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = PhotometricInterpretation.YBR_PARTIAL_420
    ds.PlanarConfiguration = 0
    ds.Rows = stream.height
    ds.Columns = stream.width
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0


def _ratio(probe: VideoProbe) -> str:
    raw = probe.width * probe.height * 3 * probe.frame_count
    return _ds(raw / max(1, probe.size_bytes))


def _compression(ds: Dataset, stream: VideoProbe, source: VideoProbe, derived: bool) -> None:
    """Lossy Image Compression with one ratio and method per lossy step (PS3.3
    C.7.6.1.1.5): the camera's coding, then the hub's transcode when there was one."""
    # Every camera codec is lossy; the stream is at least once-compressed.
    ds.LossyImageCompression = LossyImageCompression.LOSSY
    ratios, methods = [_ratio(stream)], [COMPRESSION_METHODS[stream.codec]]
    first = SOURCE_METHODS.get(source.codec, source.codec.upper()[:16]) if derived else None
    if first is not None:
        ratios.insert(0, _ratio(source))
        methods.insert(0, first)
    ds.LossyImageCompressionRatio = ratios
    ds.LossyImageCompressionMethod = methods


def _acquired(source: VideoProbe, context: CaptureContext) -> datetime | None:
    return capture_moment(context, source.captured_at)


def build_video_dataset(
    *,
    stream: VideoProbe,
    source: VideoProbe,
    origin: VideoOrigin,
    transfer_syntax: str,
    iod: IodChoice,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
) -> Dataset:
    """A video IOD dataset with file meta, everything but Pixel Data.

    ``stream`` describes what goes into Pixel Data, ``source`` the captured
    file (capture time, make and model come from its metadata).
    """
    acquired = _acquired(source, context)
    site = context.body_site
    ds = new_dataset(iod.sop_class_uid, identity, transfer_syntax)
    add_common_modules(
        ds,
        context=context,
        identity=identity,
        producer=producer,
        contribution=origin.contribution,
        acquired=acquired,
        modality=iod.modality,
        make=source.make,
        model=source.model,
        extra_texts=(source.make, source.model),
    )

    # General Image (C.7.6.1)
    ds.InstanceNumber = identity.instance_number
    ds.PatientOrientation = ""
    if acquired is not None:
        # Type 1C in VL Image (C.8.12.1): left out rather than empty when unknown.
        ds.ContentDate = da(acquired)
        ds.ContentTime = tm(acquired)
        ds.AcquisitionDateTime = dt(acquired)
    ds.ImageType = [
        PixelDataCharacteristics.DERIVED if origin.derived else PixelDataCharacteristics.ORIGINAL,
        PatientExaminationCharacteristics.PRIMARY,
    ]
    if origin.derived and origin.derivation:
        ds.DerivationDescription = origin.derivation[:1024]
    if iod is POCUS_SCREEN_VIDEO:
        # SC Equipment (C.8.6.1) and SC Multi-frame Image (C.8.6.3): a phone's
        # video of the scanner's screen, not ultrasound data (iods.choice.probe_export).
        ds.ConversionType = ConversionType.SCANNED_IMAGE
        ds.ImageType = [
            PixelDataCharacteristics.DERIVED,
            PatientExaminationCharacteristics.SECONDARY,
        ]
        ds.DerivationDescription = "; ".join(
            filter(None, (SCREEN_VIDEO, ds.get("DerivationDescription")))
        )[:1024]
    _compression(ds, stream, source, origin.derived)
    # Burned In Annotation and Recognizable Visual Features (C.7.6.1), by the
    # specialty's policy (media.privacy.POLICIES): YES for POCUS and endoscopy.
    flags = video_privacy_flags(context.specialty)
    ds.BurnedInAnnotation = flags.burned_in_annotation
    ds.RecognizableVisualFeatures = flags.recognizable_visual_features
    add_anatomic_region(ds, site or UNKNOWN_REGION)

    # Image Laterality U (unknown / unpaired) keeps series Laterality (2C) out
    # of the question; series may mix sides (PEERS.md, Validation).
    ds.ImageLaterality = (site.laterality if site else None) or ImageLaterality.UNPAIRED
    if iod not in (US_MULTIFRAME, POCUS_SCREEN_VIDEO):
        # VL Image (C.8.12.1) and Acquisition Context (C.7.6.14, empty unless the
        # hub named the wound)
        ds.AcquisitionContextSequence = acquisition_context(context.wound_tracking)

    add_cine_and_multiframe(ds, stream)
    add_video_pixel_module(ds, stream)
    return ds
