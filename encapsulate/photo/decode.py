"""Decoding photos that cannot go into DICOM as they are: PNG, TIFF, WebP, HEIF,
BMP, GIF, and JPEGs coded as CMYK, YCCK or RGB.

Every file is checked whole (``photo.structure``) and its size is checked
against ``MAX_PIXELS`` before a single pixel is decoded, so a decompression
bomb (a small file declaring a huge image) is refused cheaply. The result is
upright pixels in one of the shapes the image IODs allow (8-bit grey or RGB,
or 16-bit grey), plus what happened on the way: every change of pixel values
(alpha compositing, colour conversion, bit-depth reduction) is named, because
it makes the image DERIVED (PS3.3 C.7.6.1.1.2).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from encapsulate.dicom.enums import LossyImageCompressionMethod
from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.media.exif import ExifFacts, exif_facts
from encapsulate.media.info import MediaInfo
from encapsulate.media.sniff import MediaType, sniff_file
from encapsulate.photo.structure import (
    PNG_PRIVATE_CHUNKS,
    WEBP_PRIVATE_CHUNKS,
    refuse_polyglot,
    walk_isobmff,
    walk_png,
    walk_webp,
)

# The hub's own limit: a 200 MP phone mode stays within it, a bomb does not.
# Decoded, it is at most 0.6 GB of RGB; Rows and Columns are 16-bit in DICOM.
MAX_PIXELS = 200_000_000
MAX_SIDE = 65_535
# Formats whose coding is lossy: their pixels are already approximations.
_PNG_16BIT_COLOUR = (2, 6)  # colour types truecolour and truecolour + alpha
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError)


@dataclass(frozen=True)
class RasterImage:
    """An upright decoded image and what is known about its source.

    ``pixels``: uint8 (rows, columns) or (rows, columns, 3), or uint16 (rows,
    columns). ``changes`` name each change of pixel values (empty: the pixels
    are the source's exactly, only rearranged). ``source_lossy``: the source
    coding was lossy (HEIF, lossy WebP, JPEG), so the values were approximate
    already.
    """

    pixels: np.ndarray
    info: MediaInfo
    exif: ExifFacts
    icc_profile: bytes | None
    source_lossy: bool | None  # None: a lossless file of unknown history
    changes: tuple[str, ...]
    source_method: str | None  # PS3.3 C.7.6.1.1.5 method name of a lossy source


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise MediaError(f"the file cannot be read: {error.strerror or error}") from None


def _check_size(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0:
        raise MediaError(f"the {what} declares an empty image ({width} x {height})")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise UnsupportedMediaError(
            f"the {what} declares {width} x {height} pixels, over the hub's limit of "
            f"{MAX_PIXELS // 1_000_000} MP (a decompression bomb or a panorama); refused unread"
        )


def _open(data: bytes, what: str) -> Image.Image:
    """Open lazily (header only) with Pillow's own bomb check turned into a refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnsupportedMediaError(f"the {what} is too large to decode safely ({error})") from None
    except _DECODE_ERRORS as error:
        raise MediaError(f"the {what} cannot be read ({error})") from None
    _check_size(image.width, image.height, what)
    return image


def _open_heif(data: bytes) -> Image.Image:
    import pillow_heif

    walk_isobmff(data)
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        _check_size(heif.size[0], heif.size[1], "HEIF image")
        # pillow-heif applies the irot/imir transforms itself (PEERS.md).
        image = heif.to_pillow()
    except (ValueError, RuntimeError, OSError, SyntaxError) as error:
        raise MediaError(f"the HEIF image cannot be decoded ({error}); upload it again") from None
    return image


def _load(image: Image.Image, what: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnsupportedMediaError(f"the {what} is too large to decode safely ({error})") from None
    except _DECODE_ERRORS as error:
        raise MediaError(f"the {what} is truncated or corrupt ({error}); upload it again") from None


def _composite_on_white(image: Image.Image, changes: list[str]) -> Image.Image:
    """Drop an opaque alpha channel; composite a real one on white.

    DICOM image IODs have no alpha. White, because transparent parts of a
    screenshot or an exported photo are shown on white by viewers and printed
    documents, and black would hide dark outlines and text.
    """
    base = "L" if image.mode == "LA" else "RGB"
    alpha = image.getchannel("A")
    if alpha.getextrema() == (255, 255):
        return image.convert(base)
    white = Image.new(image.mode, image.size, (255,) * len(image.mode))
    changes.append("transparency composited on white (DICOM images have no alpha channel)")
    return Image.alpha_composite(white.convert("RGBA"), image.convert("RGBA")).convert(base)


def _to_supported(image: Image.Image, png_16bit_colour: bool, changes: list[str]) -> Image.Image:
    """The image as mode L, RGB or I;16 (the shapes the IODs take)."""
    mode = image.mode
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode == "1":
        return image.convert("L")  # 0 / 255: the same information
    if mode in ("RGBA", "LA"):
        return _composite_on_white(image, changes)
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        changes.append(f"converted from {mode} to RGB")
        return image.convert("RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 0xFFFF:
            raise UnsupportedMediaError(
                "a grey image with values outside 0..65535 is not supported"
            )
        return Image.fromarray(array.astype(np.uint16))
    if mode == "RGB":
        if png_16bit_colour:
            changes.append("16-bit colour reduced to 8 bits (the colour photo IODs are 8-bit)")
        return image
    if mode == "L":
        return image
    raise UnsupportedMediaError(f"{mode} images are not supported; export the image as RGB")


def _exif(image: Image.Image) -> ExifFacts:
    try:
        return exif_facts(image.getexif())
    except _DECODE_ERRORS:
        return ExifFacts(private=("EXIF (unreadable)",))


def _private(media_type: MediaType, data: bytes, image: Image.Image, facts: ExifFacts) -> list[str]:
    names = list(facts.private)
    if media_type is MediaType.PNG:
        names += sorted(
            {PNG_PRIVATE_CHUNKS[c] for c in walk_png(data).chunks if c in PNG_PRIVATE_CHUNKS}
        )
    if media_type is MediaType.WEBP:
        names += sorted(
            {WEBP_PRIVATE_CHUNKS[c] for c in walk_webp(data) if c in WEBP_PRIVATE_CHUNKS}
        )
    if image.info.get("exif") and "EXIF" not in names:
        names.append("EXIF")
    if image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"):
        names.append("XMP")
    if image.info.get("comment"):
        names.append("Comment")
    if media_type is MediaType.TIFF:
        names += [
            n
            for tag, n in ((315, "Artist"), (33432, "Copyright"), (33723, "IPTC"))
            if tag in image.getexif()
        ]
    return list(dict.fromkeys(names))


def _source_coding(
    media_type: MediaType, image: Image.Image, chunks: tuple[bytes, ...]
) -> tuple[bool | None, str | None]:
    """Whether the source coding was lossy, and its PS3.3 C.7.6.1.1.5 method name.

    None for a lossless file: it says nothing of the image's history (a PNG
    may hold a decoded JPEG), so Lossy Image Compression is left empty.
    """
    if media_type is MediaType.HEIF:
        return (
            True,
            LossyImageCompressionMethod.HEVC,
        )  # HEVC, as named for the HEVC transfer syntaxes
    if media_type is MediaType.JPEG:
        return True, LossyImageCompressionMethod.JPEG
    if media_type is MediaType.WEBP:
        return (True if b"VP8 " in chunks else None), None  # VP8 has no defined term
    if media_type is MediaType.TIFF and image.info.get("compression") in ("jpeg", "tiff_jpeg"):
        return True, LossyImageCompressionMethod.JPEG
    return None, None


def read_raster(path: Path) -> RasterImage:
    """Check, measure and decode a non-DICOM-ready image; upright, in a supported mode.

    Raises ``MediaError`` (truncated, corrupt) or ``UnsupportedMediaError``
    (too large, animated, a polyglot, a mode DICOM cannot hold), each with a
    one-line reason, and never anything else for bad input.
    """
    media_type = sniff_file(path)
    data = _read(path)
    what = {MediaType.HEIF: "HEIF image", MediaType.JPEG: "JPEG"}.get(media_type, media_type.name)
    webp_chunks: tuple[bytes, ...] = ()
    png_16bit_colour = False
    if media_type is MediaType.PNG:
        header = walk_png(data)
        _check_size(header.width, header.height, what)
        png_16bit_colour = header.bit_depth == 16 and header.colour_type in _PNG_16BIT_COLOUR
    elif media_type is MediaType.WEBP:
        webp_chunks = walk_webp(data)
        if b"ANIM" in webp_chunks:
            raise UnsupportedMediaError("an animated WebP is not a photo; send it as a video")
    elif media_type in (MediaType.TIFF, MediaType.BMP, MediaType.GIF):
        refuse_polyglot(data, len(data), what)
    if media_type is MediaType.HEIF:
        image = _open_heif(data)
    elif media_type in (
        MediaType.PNG,
        MediaType.WEBP,
        MediaType.TIFF,
        MediaType.BMP,
        MediaType.GIF,
        MediaType.JPEG,
    ):
        image = _open(data, what)
    else:
        raise UnsupportedMediaError(f"{media_type.value} files are not images the hub can decode")
    if getattr(image, "n_frames", 1) > 1:
        raise UnsupportedMediaError(
            f"the {what} holds {image.n_frames} images (animated or multi-page); "
            "send one image per file"
        )
    _load(image, what)
    facts = _exif(image)
    private = _private(media_type, data, image, facts)
    icc = image.info.get("icc_profile") or None
    changes: list[str] = []
    lossy, method = _source_coding(media_type, image, webp_chunks)
    rows, columns = image.height, image.width
    orientation = 1 if media_type is MediaType.HEIF else facts.orientation
    try:
        if orientation != 1:
            image = ImageOps.exif_transpose(image)
        source_mode = image.mode
        image = _to_supported(image, png_16bit_colour, changes)
        pixels = np.asarray(image)
    except _DECODE_ERRORS as error:
        raise MediaError(f"the {what} cannot be decoded ({error})") from None
    if image.mode != "RGB" or source_mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        icc = None  # a grey or converted image: the source's profile does not describe it
    swapped = orientation >= 5
    info = MediaInfo(
        kind="photo",
        mime_type=media_type.value,
        rows=rows,
        columns=columns,
        orientation=orientation,
        upright_rows=columns if swapped else rows,
        upright_columns=rows if swapped else columns,
        captured_at=facts.captured_at,
        make=facts.make,
        model=facts.model,
        private_metadata=tuple(private),
        components=1 if pixels.ndim == 2 else 3,
    )
    return RasterImage(pixels, info, facts, icc, lossy, tuple(changes), method)
