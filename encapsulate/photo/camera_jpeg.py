"""From a camera JPEG file to the stream that goes into Pixel Data.

The camera's bitstream is kept whenever possible (STANDARDS.md, Photos):
metadata segments are dropped at the marker level, orientation and
progressive-to-baseline are done on DCT coefficients (``jpeg_transform``). An
image whose edges are not whole MCUs cannot be rotated so (``NotWholeMcus``):
it is decoded, turned and stored losslessly by the raster path (DERIVED), never
re-encoded as a 4:4:4 JPEG that YBR_FULL_422 would mislabel (PS3.5 8.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.media.exif import ExifFacts, read_exif
from encapsulate.media.info import MediaInfo
from encapsulate.media.sniff import MediaType, sniff_file
from encapsulate.photo.jpeg_markers import (
    APP1,
    APP2,
    APP13,
    COM,
    EXIF_SIGNATURE,
    ICC_SIGNATURE,
    MPF_SIGNATURE,
    PHOTOSHOP_SIGNATURE,
    XMP_SIGNATURES,
    Frame,
    JpegStructure,
    parse_jpeg,
    strip_metadata,
)
from encapsulate.photo.jpeg_transform import TransformRefused, rotate_lossless, to_baseline
from encapsulate.photo.structure import refuse_polyglot

# The only coding processes with a non-retired transfer syntax (PS3.5 A.4.1).
WRAPPABLE = ("baseline", "extended")


class NeedsDecoding(UnsupportedMediaError):
    """A valid JPEG whose colour coding no DICOM photometric names (CMYK, YCCK,
    RGB-coded): it has to be decoded and re-encoded (``photo.raster_wrap``)."""


class NotWholeMcus(NeedsDecoding):
    """The EXIF orientation cannot be applied losslessly: the edges are not whole MCUs."""

    def __init__(self, orientation: int) -> None:
        super().__init__(
            f"EXIF orientation {orientation} applied by decoding the camera JPEG and storing the "
            "turned pixels losslessly: its edges are not whole MCUs, so they could not "
            "be turned without decoding"
        )


@dataclass(frozen=True)
class CameraJpeg:
    """A camera JPEG file, read and checked but not yet changed."""

    data: bytes
    structure: JpegStructure
    exif: ExifFacts
    info: MediaInfo


@dataclass(frozen=True)
class PixelStream:
    """The JPEG stream for Pixel Data, its frame header, and how it was made."""

    stream: bytes
    frame: Frame
    icc_profile: bytes | None
    derived: bool
    derivation: str | None = None


def _private_segments(data: bytes, structure: JpegStructure) -> list[str]:
    names: list[str] = []
    if structure.find(APP1, XMP_SIGNATURES[0]) or structure.find(APP1, XMP_SIGNATURES[1]):
        names.append("XMP")
    if structure.find(APP13, PHOTOSHOP_SIGNATURE):
        names.append("IPTC")
    if structure.find(COM):
        names.append("Comment")
    if structure.find(APP2, MPF_SIGNATURE):
        names.append("MPF")
    if structure.end < len(data):
        names.append("Trailer")
    return names


def _check_wrappable(structure: JpegStructure) -> None:
    frame = structure.frame
    if frame.process not in (*WRAPPABLE, "progressive"):
        raise UnsupportedMediaError(
            f"{frame.process} JPEG is not supported; export the photo as an ordinary JPEG"
        )
    if frame.precision != 8:
        raise UnsupportedMediaError(
            f"{frame.precision}-bit JPEG is not supported; photos must be 8 bits per sample"
        )
    if len(frame.components) == 4:
        raise NeedsDecoding("a CMYK or YCCK JPEG has to be converted to RGB")
    if len(frame.components) not in (1, 3):
        raise UnsupportedMediaError(f"a JPEG with {len(frame.components)} components")
    if len(frame.components) == 3 and structure.adobe_transform == 0:
        raise NeedsDecoding("an RGB-coded JPEG has to be converted to YCbCr")


def read_camera_jpeg(path: Path) -> CameraJpeg:
    """Read and check a JPEG file; raises ``MediaError`` or ``UnsupportedMediaError``."""
    media_type = sniff_file(path)
    if media_type is not MediaType.JPEG:
        raise UnsupportedMediaError(
            f"{media_type.value} files are not supported yet; only JPEG photos can be wrapped"
        )
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise MediaError(f"the file cannot be read: {error.strerror or error}") from None
    structure = parse_jpeg(data)
    refuse_polyglot(data, structure.end, "JPEG")
    _check_wrappable(structure)
    exif_segments = structure.find(APP1, EXIF_SIGNATURE)
    exif = read_exif(exif_segments[0].payload) if exif_segments else ExifFacts()
    frame = structure.frame
    swapped = exif.orientation >= 5  # 5..8 exchange width and height
    info = MediaInfo(
        kind="photo",
        mime_type=MediaType.JPEG.value,
        rows=frame.rows,
        columns=frame.columns,
        orientation=exif.orientation,
        upright_rows=frame.columns if swapped else frame.rows,
        upright_columns=frame.rows if swapped else frame.columns,
        captured_at=exif.captured_at,
        make=exif.make,
        model=exif.model,
        sof=frame.process,
        components=len(frame.components),
        subsampling=frame.subsampling,
        private_metadata=exif.private + tuple(_private_segments(data, structure)),
    )
    return CameraJpeg(data, structure, exif, info)


def _icc_segments(structure: JpegStructure, data: bytes) -> list[bytes]:
    return [data[s.start : s.end] for s in structure.find(APP2, ICC_SIGNATURE)]


def _clean(stream: bytes, icc_segments: list[bytes]) -> tuple[bytes, JpegStructure]:
    """Strip what the transform added (JFIF) and put the camera's ICC profile back."""
    structure = parse_jpeg(stream)
    stripped = strip_metadata(stream, structure)
    if icc_segments and not structure.find(APP2, ICC_SIGNATURE):
        stripped = stripped[:2] + b"".join(icc_segments) + stripped[2:]
    return stripped, parse_jpeg(stripped)


def pixel_stream(jpeg: CameraJpeg) -> PixelStream:
    """The stream for Pixel Data: upright, sequential, without metadata segments.

    Raises ``NotWholeMcus`` when the orientation needs decoding.
    """
    structure = jpeg.structure
    icc_segments = _icc_segments(structure, jpeg.data)
    stream = strip_metadata(jpeg.data, structure)
    orientation = jpeg.exif.orientation
    derivation = None
    if orientation != 1:
        try:
            stream = rotate_lossless(stream, orientation)
        except TransformRefused:
            raise NotWholeMcus(orientation) from None
        # Recorded so a reader knows the pixels were turned (values unchanged: ORIGINAL).
        derivation = (
            f"EXIF orientation {orientation} applied losslessly (libjpeg-turbo moved the DCT "
            "blocks; no pixel value changed)"
        )
        stream, result = _clean(stream, icc_segments)
    elif structure.frame.process == "progressive":
        stream, result = _clean(to_baseline(stream), icc_segments)
    else:
        result = parse_jpeg(stream)
    if result.frame.process not in WRAPPABLE:
        raise MediaError(f"converting the JPEG left a {result.frame.process} stream")
    if (result.frame.rows, result.frame.columns) != (
        jpeg.info.upright_rows,
        jpeg.info.upright_columns,
    ):
        raise MediaError("the rotated JPEG does not have the expected size")
    return PixelStream(stream, result.frame, result.icc_profile, False, derivation)
