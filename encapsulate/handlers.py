"""Which module describes and wraps each media type.

Handlers are named as "module:function" and imported on first use, so that
a photo never loads the video stack and each kind of media lives in modules
of its own. Every handler pair has the same shape:

    inspect(path: Path) -> MediaInfo
    wrap(path: Path, *, context, identity, producer, out_dir) -> list[WrittenInstance]

Photo wrappers also take ``faces``, the count their inspector put in
``MediaInfo.faces``, so that a face found at inspection is not looked for again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from encapsulate.errors import UnsupportedMediaError
from encapsulate.media.sniff import MediaType


@dataclass(frozen=True)
class Handler:
    inspect: str
    wrap: str


HANDLERS: dict[MediaType, Handler] = {
    MediaType.JPEG: Handler(
        "encapsulate.photo.jpeg_wrap:inspect_jpeg", "encapsulate.photo.jpeg_wrap:wrap_jpeg"
    ),
    # Other images are decoded; the IOD and the coding follow raster_photo's policy.
    MediaType.PNG: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.HEIF: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.TIFF: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.WEBP: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.BMP: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.GIF: Handler(
        "encapsulate.photo.raster_wrap:inspect_raster", "encapsulate.photo.raster_wrap:wrap_raster"
    ),
    MediaType.PDF: Handler("encapsulate.pdf.wrap:inspect_pdf", "encapsulate.pdf.wrap:wrap_pdf"),
    MediaType.DICOM: Handler(
        "encapsulate.dicom.reconcile:inspect_dicom", "encapsulate.dicom.reconcile:wrap_dicom"
    ),
}
# Every video container goes to one handler: the policy decides per stream.
_VIDEO = Handler("encapsulate.video.wrap:inspect_video", "encapsulate.video.wrap:wrap_video")
HANDLERS.update(
    dict.fromkeys(
        (
            MediaType.MP4,
            MediaType.QUICKTIME,
            MediaType.MPEG_TS,
            MediaType.MPEG_PS,
            MediaType.WEBM,
            MediaType.MATROSKA,
            MediaType.AVI,
        ),
        _VIDEO,
    )
)


def _load(name: str) -> Callable[..., Any]:
    module, function = name.split(":")
    return getattr(import_module(module), function)


def _handler(media_type: MediaType) -> Handler:
    handler = HANDLERS.get(media_type)
    if handler is None:
        raise UnsupportedMediaError(
            f"{media_type.value} files are recognised but cannot be wrapped as DICOM yet"
        )
    return handler


# The inspectors that count faces, and take ``detect_faces=False`` to skip it.
FACE_INSPECTORS = frozenset(
    ("encapsulate.photo.jpeg_wrap:inspect_jpeg", "encapsulate.photo.raster_wrap:inspect_raster")
)
# The inspectors that can decode the measurement's search copy for the faces
# (``for_measurement``); a decoded raster has its pixels whole anyway.
SEARCH_COPY_INSPECTORS = frozenset(("encapsulate.photo.jpeg_wrap:inspect_jpeg",))


def inspector(
    media_type: MediaType, *, detect_faces: bool = True, for_measurement: bool = False
) -> Callable[..., Any]:
    name = _handler(media_type).inspect
    inspect = _load(name)
    options: dict[str, bool] = {}
    if not detect_faces and name in FACE_INSPECTORS:
        options["detect_faces"] = False
    if for_measurement and name in SEARCH_COPY_INSPECTORS:
        options["for_measurement"] = True
    return functools.partial(inspect, **options) if options else inspect


def wrapper(media_type: MediaType) -> Callable[..., Any]:
    return _load(_handler(media_type).wrap)
