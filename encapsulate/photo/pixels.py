"""The coded pixels of one photo, ready for Pixel Data, and how they were made.

Policy for images that are not a camera JPEG (STANDARDS.md, Photos; PS3.5
8.2 and A.4):

- A lossless source (PNG, TIFF, BMP, GIF, lossless WebP) stays lossless: JPEG-LS
  lossless (1.2.840.10008.1.2.4.80), photometric RGB or MONOCHROME2, because
  pydicom encodes it here (pyjpegls, pinned with highdicom), it is about half
  the size of uncompressed pixels, and every DICOM toolkit decodes it.
- A lossy source (HEIF, lossy WebP, a CMYK or RGB-coded JPEG) is already an
  approximation; it becomes a baseline JPEG at quality 99, 4:4:4, marked
  DERIVED with both compression steps recorded (PS3.3 C.7.6.1.1.5), which
  keeps it near the size the camera chose rather than tripling it.

Why 99: the chroma is already full resolution, and the CMYK -> RGB step is
exact (Pillow's conversion, the same a viewer makes), so what is left is the
quantisation of the re-encode itself. A JPEG source (CMYK here) keeps its
sensor noise, unlike a HEIF or WebP source whose encoder smoothed it, and at
quality 98 the quantiser steps (up to 4-5 for the highest frequencies) cost a
noisy photo ~1 dB under the 45 dB the photos must keep (44.2 dB measured;
the same picture coded as RGB gives 43.5 dB). Quality 99 halves the steps:
48 dB, for ~20 % more bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pydicom.pixels import get_encoder
from pydicom.uid import JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSLossless

from encapsulate.dicom.enums import LossyImageCompressionMethod, PhotometricInterpretation
from encapsulate.photo.camera_jpeg import PixelStream
from encapsulate.photo.jpeg_markers import parse_jpeg, strip_metadata

JPEG_METHOD = LossyImageCompressionMethod.JPEG
_MONOCHROME = PhotometricInterpretation.MONOCHROME2
# Quality of the baseline JPEG a decoded lossy source becomes (module docstring).
REENCODE_QUALITY = 99


@dataclass(frozen=True)
class EncodedPixels:
    """One compressed frame plus the Image Pixel and lossy-compression facts."""

    transfer_syntax: str
    frame: bytes
    rows: int
    columns: int
    samples: int
    bits: int  # allocated and stored
    photometric: str
    icc_profile: bytes | None
    derived: bool
    derivation: str | None
    lossy: bool  # Lossy Image Compression (0028,2110) "01"
    methods: tuple[str, ...]  # Lossy Image Compression Method, one per lossy step
    ratios: tuple[str, ...]


def _ratio(uncompressed: int, compressed: int) -> str:
    return f"{uncompressed / max(compressed, 1):.2f}"


def from_camera_stream(pixels: PixelStream, *, camera_stream_size: int) -> EncodedPixels:
    """A camera JPEG kept as it was coded (``camera_jpeg.pixel_stream``)."""
    frame = pixels.frame
    samples = len(frame.components)
    raw = frame.rows * frame.columns * samples
    if pixels.derived:
        ratios = (_ratio(raw, camera_stream_size), _ratio(raw, len(pixels.stream)))
        methods = (JPEG_METHOD, JPEG_METHOD)
    else:
        ratios, methods = (_ratio(raw, len(pixels.stream)),), (JPEG_METHOD,)
    return EncodedPixels(
        transfer_syntax={"baseline": JPEGBaseline8Bit}.get(frame.process, JPEGExtended12Bit),
        frame=pixels.stream,
        rows=frame.rows,
        columns=frame.columns,
        samples=samples,
        bits=8,
        photometric=_MONOCHROME if samples == 1 else PhotometricInterpretation.YBR_FULL_422,
        icc_profile=pixels.icc_profile,
        derived=pixels.derived,
        derivation=pixels.derivation,
        lossy=True,
        methods=methods,
        ratios=ratios,
    )


def encode_lossless(
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None,
    changes: tuple[str, ...],
    source_lossy: bool,
    source_method: str | None,
    source_size: int,
) -> EncodedPixels:
    """JPEG-LS lossless; DERIVED only when ``changes`` altered pixel values."""
    rows, columns = pixels.shape[:2]
    samples = 1 if pixels.ndim == 2 else 3
    bits = 16 if pixels.dtype == np.uint16 else 8
    photometric = _MONOCHROME if samples == 1 else PhotometricInterpretation.RGB
    frame = bytes(
        get_encoder(JPEGLSLossless).encode(
            np.ascontiguousarray(pixels),
            rows=rows,
            columns=columns,
            samples_per_pixel=samples,
            bits_allocated=bits,
            bits_stored=bits,
            pixel_representation=0,
            photometric_interpretation=photometric,
            planar_configuration=0,
            number_of_frames=1,
        )
    )
    return EncodedPixels(
        transfer_syntax=JPEGLSLossless,
        frame=frame,
        rows=rows,
        columns=columns,
        samples=samples,
        bits=bits,
        photometric=photometric,
        icc_profile=icc_profile if samples == 3 else None,
        derived=bool(changes),
        derivation="; ".join(changes) or None,
        lossy=source_lossy,
        methods=(source_method,) if source_lossy and source_method else (),
        ratios=(_ratio(rows * columns * samples * bits // 8, source_size),)
        if source_lossy and source_method
        else (),
    )


def encode_jpeg(
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None,
    changes: tuple[str, ...],
    source: str,
    source_method: str | None,
    source_size: int,
) -> EncodedPixels:
    """Baseline JPEG at REENCODE_QUALITY, 4:4:4 (8-bit only); always DERIVED."""
    image = Image.fromarray(pixels)
    out = io.BytesIO()
    options: dict[str, object] = {"quality": REENCODE_QUALITY}
    if image.mode == "RGB":
        options["subsampling"] = 0
    if icc_profile and image.mode == "RGB":
        options["icc_profile"] = icc_profile
    image.save(out, "JPEG", **options)
    data = out.getvalue()
    stream = strip_metadata(data, parse_jpeg(data))  # drops the JFIF APP0 Pillow writes
    structure = parse_jpeg(stream)
    samples = 1 if pixels.ndim == 2 else 3
    raw = pixels.shape[0] * pixels.shape[1] * samples
    steps = (source_method, JPEG_METHOD) if source_method else (JPEG_METHOD,)
    description = [
        *changes,
        f"decoded from {source} and re-encoded as JPEG (quality "
        f"{REENCODE_QUALITY}, 4:4:4): {source} has no DICOM transfer syntax",
    ]
    return EncodedPixels(
        transfer_syntax=JPEGBaseline8Bit,
        frame=stream,
        rows=structure.frame.rows,
        columns=structure.frame.columns,
        samples=samples,
        bits=8,
        photometric=_MONOCHROME if samples == 1 else PhotometricInterpretation.YBR_FULL_422,
        icc_profile=structure.icc_profile,
        derived=True,
        derivation="; ".join(description),
        lossy=True,
        methods=steps,
        ratios=((_ratio(raw, source_size),) if source_method else ()) + (_ratio(raw, len(stream)),),
    )
