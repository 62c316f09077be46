"""Photos and screenshots that are not camera JPEGs, described and wrapped.

The handler for PNG, TIFF, WebP, HEIF, BMP and GIF, and for JPEGs coded as
CMYK, YCCK or RGB or not turnable losslessly. The IOD follows the specialty
(``iods.choice``); the decoded pixels are stored losslessly (``photo.pixels``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydicom.uid import JPEGLSLossless

from encapsulate.context.capture import CaptureContext, Specialty
from encapsulate.dicom.output_file import write_atomically
from encapsulate.errors import UnsupportedMediaError
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.choice import (
    OPHTHALMIC,
    OPHTHALMIC_16BIT,
    POCUS_SCREEN,
    SECONDARY_CAPTURE,
    IodChoice,
    MediaKind,
    capture_iod,
    is_secondary_capture,
)
from encapsulate.iods.vl_image import build_photo_image
from encapsulate.media.info import MediaInfo
from encapsulate.media.privacy import PrivacyPolicy, count_faces, default_policy, privacy_flags
from encapsulate.media.sniff import MediaType
from encapsulate.photo.decode import RasterImage, read_raster
from encapsulate.photo.pixels import encode_lossless
from encapsulate.written import WrittenInstance

# What makes a POCUS screen capture DERIVED (iods.choice.probe_export).
SCREEN_PICTURE = "a picture of the ultrasound scanner's screen, not the scanner's own image"
SCREEN_FORMATS = (MediaType.PNG.value, MediaType.BMP.value, MediaType.GIF.value)


def inspect_raster(path: Path, *, detect_faces: bool = True) -> MediaInfo:
    """The image's structure and capture facts, and the faces in it (``faces`` None
    when not ``detect_faces``)."""
    raster = read_raster(path)
    if not detect_faces:
        return raster.info
    return dataclasses.replace(raster.info, faces=count_faces(raster.pixels))


def photo_iod(raster: RasterImage, context: CaptureContext) -> IodChoice:
    """The IOD for ``raster``: by specialty, but 16 bits only fit Ophthalmic
    Photography 16 Bit (A.39.2) for the eye, else Secondary Capture (every VL
    IOD and US Image take 8 bits; PS3.3 C.8.12.1.1)."""
    if raster.pixels.dtype.itemsize == 2:
        if context.specialty is Specialty.OPHTHALMOLOGY:
            return OPHTHALMIC_16BIT
        return SECONDARY_CAPTURE
    screen = raster.info.mime_type in SCREEN_FORMATS
    kind = MediaKind.SCREEN if screen else MediaKind.PHOTO
    return capture_iod(context, kind, make=raster.info.make)


def wrap_raster(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
    policy: PrivacyPolicy | None = None,
    faces: int | None = None,
    changes: tuple[str, ...] = (),
) -> list[WrittenInstance]:
    """One instance of the chosen IOD named ``<SOP Instance UID>.dcm``.

    ``changes`` are what the caller did to the pixels beyond decoding (the
    camera JPEG path: an orientation applied by decoding); they make it DERIVED.
    """
    raster = read_raster(path)
    if changes:
        raster = dataclasses.replace(raster, changes=raster.changes + changes)
    iod = photo_iod(raster, context)
    is_sc = is_secondary_capture(iod)
    if iod is POCUS_SCREEN:
        raster = dataclasses.replace(raster, changes=(*raster.changes, SCREEN_PICTURE))
    flags = privacy_flags(
        policy or default_policy(context.specialty, screenshot=is_sc), raster.pixels, faces=faces
    )
    if is_sc:
        # highdicom (under Secondary Capture) is imported only for a screen capture.
        from encapsulate.iods.secondary_capture import build_secondary_capture

        dataset = build_secondary_capture(
            raster=raster,
            context=context,
            identity=identity,
            producer=producer,
            privacy=flags,
            transfer_syntax=JPEGLSLossless,
            iod=iod,
        )
        derived = bool(raster.changes)
    else:
        if iod in OPHTHALMIC and raster.source_lossy and raster.source_method is None:
            # PS3.3 C.8.17.2 needs the lossy method, and VP8 has no defined term.
            raise UnsupportedMediaError(
                "a lossy WebP cannot be stored as an ophthalmic photo; send the camera's JPEG"
            )
        # A decoded image is stored losslessly: a second lossy generation would
        # have to be chroma subsampled for its YBR_FULL_422 label to be true
        # (PS3.5 8.2.1), which costs more than the quality floor allows.
        pixels = encode_lossless(
            raster.pixels,
            icc_profile=raster.icc_profile,
            changes=raster.changes,
            source_lossy=raster.source_lossy,
            source_method=raster.source_method,
            source_size=Path(path).stat().st_size,
        )
        dataset = build_photo_image(
            pixels=pixels,
            info=raster.info,
            context=context,
            identity=identity,
            producer=producer,
            iod=iod,
            privacy=flags,
            contribution=f"Wrapped a {raster.info.mime_type} image as DICOM",
        )
        derived = pixels.derived
    target = write_atomically(dataset, out_dir / f"{identity.sop_instance_uid}.dcm")
    return [WrittenInstance.of(dataset, target, derived=derived)]
