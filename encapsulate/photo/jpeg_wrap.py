"""A camera JPEG, described and wrapped (the handler for image/jpeg).

The camera's stream goes into Pixel Data (``camera_jpeg``) in the IOD the specialty
calls for; a JPEG coded as CMYK, YCCK or RGB, or one whose orientation cannot be
applied losslessly, is decoded and stored losslessly by the raster path instead
(``photo.raster_wrap``).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from encapsulate.context.capture import CaptureContext
from encapsulate.dicom.output_file import write_atomically
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.choice import MediaKind, capture_iod, is_secondary_capture
from encapsulate.iods.vl_image import build_photo_image
from encapsulate.media.info import MediaInfo
from encapsulate.media.privacy import (
    FACE_DETECTION_SIDE,
    PrivacyPolicy,
    count_faces,
    default_policy,
    privacy_flags,
)
from encapsulate.photo.camera_jpeg import (
    CameraJpeg,
    NeedsDecoding,
    NotWholeMcus,
    pixel_stream,
    read_camera_jpeg,
)
from encapsulate.photo.gray_copy import GrayCopy, gray_copy
from encapsulate.photo.pixels import from_camera_stream
from encapsulate.written import WrittenInstance


def inspect_jpeg(
    path: Path, *, detect_faces: bool = True, for_measurement: bool = False
) -> MediaInfo:
    """The JPEG's structure and capture facts, and the faces in it (``faces`` None
    when not ``detect_faces``).

    ``for_measurement``: the photo is measured next in this process, so the faces
    are looked for on a preview derived from the marker search's copy, decoded
    here and kept for ``measure_photo`` (``photo.gray_copy``): one reduced
    decode instead of two.
    """
    try:
        jpeg = read_camera_jpeg(path)
    except NeedsDecoding:
        from encapsulate.photo.raster_wrap import inspect_raster

        return inspect_raster(path, detect_faces=detect_faces)
    if not detect_faces:
        return jpeg.info
    preview = preview_pixels(jpeg, search=_search_copy(path) if for_measurement else None)
    faces = count_faces(preview) if preview is not None else None
    return dataclasses.replace(jpeg.info, faces=faces)


def _search_copy(path: Path) -> GrayCopy | None:
    # Imported here: the marker module loads OpenCV's ArUco, which only a
    # photo to be measured needs.
    from encapsulate.measure.marker import SEARCH_REDUCTION

    try:
        return gray_copy(path, reduction=SEARCH_REDUCTION, keep=True)
    except (OSError, ValueError, SyntaxError):
        return None  # the measurement reads the photo again and says why it cannot


def preview_pixels(jpeg: CameraJpeg, *, search: GrayCopy | None = None) -> np.ndarray | None:
    """A small upright grey copy for face detection.

    libjpeg's DCT scaling (Pillow ``draft``) decodes at 1/2..1/8 size for a
    fraction of a full decode (the entropy decoding, which no scale skips, is
    most of what is left), which is all face detection needs: the smallest
    scale whose long side still reaches ``FACE_DETECTION_SIDE``. Given
    ``search``, an upright grey copy of the same photo already decoded at a
    scale that divides that one, the preview is reduced from it instead (box
    means, what the DCT scaling nearly is) and nothing is decoded.
    """
    try:
        with Image.open(io.BytesIO(jpeg.data)) as image:
            width, height = image.size
            fit = FACE_DETECTION_SIDE / max(width, height)
            drafted = image.draft("L", (max(1, round(width * fit)), max(1, round(height * fit))))
            # Pillow's draft answers the box it will decode: its width says the scale.
            scale = round(width / drafted[1][2]) if drafted is not None else 1
            if search is not None and scale % search.reduction == 0:
                return np.asarray(Image.fromarray(search.pixels).reduce(scale // search.reduction))
            image.load()
            return np.asarray(ImageOps.exif_transpose(image).convert("L"))
    except (OSError, ValueError, SyntaxError):
        return None  # the stream is checked again when it is converted or wrapped


def _wrap_decoded(path: Path, **arguments: object) -> list[WrittenInstance]:
    # Imported here: the raster path loads highdicom (its Secondary Capture), most
    # of a second that a camera JPEG through the command line need not pay.
    from encapsulate.photo.raster_wrap import wrap_raster

    return wrap_raster(path, **arguments)  # type: ignore[arg-type]


def wrap_jpeg(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
    policy: PrivacyPolicy | None = None,
    faces: int | None = None,
) -> list[WrittenInstance]:
    """One image of the specialty's IOD (PS3.3 A.32.4 by default), ``<SOP Instance UID>.dcm``.

    ``faces`` is what inspection found (``MediaInfo.faces``); without it the
    faces are looked for here when the specialty's policy asks.
    """

    def from_decoded_pixels() -> list[WrittenInstance]:
        return _wrap_decoded(
            path,
            context=context,
            identity=identity,
            producer=producer,
            out_dir=out_dir,
            policy=policy,
            faces=faces,
        )

    try:
        jpeg = read_camera_jpeg(path)
    except NeedsDecoding:
        return from_decoded_pixels()
    iod = capture_iod(context, MediaKind.PHOTO, make=jpeg.info.make)
    if is_secondary_capture(iod):
        # A POCUS screen capture: Secondary Capture, built from the decoded pixels.
        return from_decoded_pixels()
    try:
        pixels = pixel_stream(jpeg)
    except NotWholeMcus as turned:
        return _wrap_decoded(
            path,
            context=context,
            identity=identity,
            producer=producer,
            out_dir=out_dir,
            policy=policy,
            faces=faces,
            changes=(turned.reason,),
        )
    policy = policy or default_policy(context.specialty)
    looked_for = faces is not None or not policy.detect_faces
    flags = privacy_flags(policy, None if looked_for else preview_pixels(jpeg), faces=faces)
    dataset = build_photo_image(
        pixels=from_camera_stream(pixels),
        info=jpeg.info,
        context=context,
        identity=identity,
        producer=producer,
        iod=iod,
        privacy=flags,
        contribution="Wrapped a camera JPEG as DICOM",
    )
    target = write_atomically(dataset, out_dir / f"{identity.sop_instance_uid}.dcm")
    return [WrittenInstance.of(dataset, target, derived=pixels.derived)]
