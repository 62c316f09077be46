"""A small JPEG of a wound's photo, as displayed, for the capture app's list and ghost."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from hub.captures.models import Capture
from hub.captures.storage import data_path

# Big enough to frame the next photo by (the ghost overlay), small enough for a list.
THUMBNAIL_PIXELS = 640


def photo_thumbnail(capture: Capture, *, pixels: int = THUMBNAIL_PIXELS) -> bytes | None:
    """The capture's original, turned upright and shrunk; None if it is no picture."""
    try:
        with Image.open(data_path(capture.original_path)) as image:
            # Pillow only warns between its limit and twice it: refuse before decoding.
            if Image.MAX_IMAGE_PIXELS and image.width * image.height > Image.MAX_IMAGE_PIXELS:
                return None
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((pixels, pixels))
            out = BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None
    return out.getvalue()
