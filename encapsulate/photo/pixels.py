"""The coded pixels of one photo, ready for Pixel Data, and how they were made.

Policy for images that are not a camera JPEG (STANDARDS.md, Photos; PS3.5
8.2 and A.4): they are decoded and stored losslessly, JPEG-LS lossless
(1.2.840.10008.1.2.4.80), photometric RGB or MONOCHROME2, because pydicom
encodes it here (pyjpegls, pinned with highdicom), it is about half the size of
uncompressed pixels, and every DICOM toolkit decodes it. A lossy source (HEIF,
lossy WebP, a CMYK or RGB-coded JPEG, a camera JPEG turned by decoding) keeps
Lossy Image Compression "01" and its one lossy step.

Why not a second JPEG: the hub may only label a JPEG it encodes YBR_FULL_422
if the chroma really is subsampled (PS3.5 8.2.1, PS3.3 C.7.6.3.1.2), and a
subsampled re-encode of a decoded photo with full-resolution chroma loses
10-15 dB (33-41 dB measured on the test pictures at quality 98-100, 4:2:2 and
4:2:0, against the 45 dB the photos must keep). Lossless costs bytes (two to
three times a quality-99 JPEG) but no quality and no second generation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.pixels import get_encoder
from pydicom.uid import JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSLossless

from encapsulate.dicom.enums import LossyImageCompressionMethod, PhotometricInterpretation
from encapsulate.photo.camera_jpeg import PixelStream

JPEG_METHOD = LossyImageCompressionMethod.JPEG
_MONOCHROME = PhotometricInterpretation.MONOCHROME2


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
    # Lossy Image Compression (0028,2110): True "01", False "00", None unknown (left empty).
    lossy: bool | None
    methods: tuple[str, ...]  # Lossy Image Compression Method, one per lossy step
    ratios: tuple[str, ...]


def _ratio(uncompressed: int, compressed: int) -> str:
    return f"{uncompressed / max(compressed, 1):.2f}"


def from_camera_stream(pixels: PixelStream) -> EncodedPixels:
    """A camera JPEG kept as it was coded (``camera_jpeg.pixel_stream``)."""
    frame = pixels.frame
    samples = len(frame.components)
    raw = frame.rows * frame.columns * samples
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
    source_lossy: bool | None,
    source_method: str | None,
    source_size: int,
) -> EncodedPixels:
    """JPEG-LS lossless; DERIVED only when ``changes`` altered pixel values.

    ``source_lossy`` None: nothing says whether the image was ever lossy
    compressed (a PNG may hold a decoded JPEG), so Lossy Image Compression stays empty.
    """
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
