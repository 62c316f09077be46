"""Lossless JPEG transforms, in process: TurboJPEG's ``tjTransform``.

EXIF orientation must be applied to the pixels because DICOM has no display
rotation for photos (STANDARDS.md, Photos). The transform rearranges DCT
blocks without decoding, so the camera's coefficients survive; it can only do
so when the affected edges are whole MCUs (``TJXOPT_PERFECT`` refuses
otherwise), and then the photo is decoded and stored losslessly
(``camera_jpeg.NotWholeMcus``).

This is the code of ``jpegtran -perfect -copy none`` (libjpeg-turbo's
transupp, the same bytes out), called in the worker through libturbojpeg
(Debian package libturbojpeg0) rather than as a child process: a 12 MP photo
turned cost the worker about 0.19 CPU-s through jpegtran (its start, 73 MB of
fresh pages, 7 MB through pipes) and costs 0.13 in process (bench/README.md).
No maintained Python binding turns a JPEG with the TurboJPEG 2.x that Debian
ships (PyTurboJPEG needs the 3.x API and only crops), so the four calls are
declared here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

from encapsulate.errors import MediaError

# turbojpeg.h (TurboJPEG 2.x): the operations and options of a tjtransform.
_HFLIP, _VFLIP, _TRANSPOSE, _TRANSVERSE, _ROT90, _ROT180, _ROT270 = range(1, 8)
_TJXOPT_PERFECT = 1
_TJXOPT_COPYNONE = 64
# At most 500 scans, as jpegtran -maxscans: a progressive JPEG of thousands of
# scans is a known way to make libjpeg spin.
_TJFLAG_LIMITSCANS = 32768

# EXIF orientation -> the transform that makes the image upright (the same
# mapping as PIL.ImageOps.exif_transpose and jpegtran's -flip/-rotate/...).
ORIENTATION_TRANSFORM: dict[int, int] = {
    2: _HFLIP,
    3: _ROT180,
    4: _VFLIP,
    5: _TRANSPOSE,
    6: _ROT90,
    7: _TRANSVERSE,
    8: _ROT270,
}
# What tjTransform says when TJXOPT_PERFECT refuses.
_NOT_PERFECT = "not perfect"


class TransformRefused(Exception):
    """The transform cannot be done losslessly on this image (partial edge MCUs)."""


class _Region(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]


class _Transform(ctypes.Structure):
    _fields_ = [
        ("r", _Region),
        ("op", ctypes.c_int),
        ("options", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("customFilter", ctypes.c_void_p),
    ]


_Buffer = ctypes.POINTER(ctypes.c_ubyte)


@functools.cache
def _library() -> ctypes.CDLL:
    """libturbojpeg, its calls declared (ctypes lets go of the GIL during each)."""
    name = ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0"
    try:
        library = ctypes.CDLL(name)
    except OSError:
        # A deployment fault, not the user's: let the hub retry after it is fixed.
        raise RuntimeError("libturbojpeg is not installed (Debian package libturbojpeg0)") from None
    library.tjInitTransform.restype = ctypes.c_void_p
    library.tjInitTransform.argtypes = []
    library.tjTransform.restype = ctypes.c_int
    library.tjTransform.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.POINTER(_Buffer),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(_Transform),
        ctypes.c_int,
    ]
    library.tjGetErrorStr2.restype = ctypes.c_char_p
    library.tjGetErrorStr2.argtypes = [ctypes.c_void_p]
    library.tjFree.restype = None
    library.tjFree.argtypes = [_Buffer]
    library.tjDestroy.restype = ctypes.c_int
    library.tjDestroy.argtypes = [ctypes.c_void_p]
    return library


def transform(stream: bytes, operation: int = 0, *, perfect: bool = False) -> bytes:
    """``stream`` with ``operation`` (0: none) applied to its DCT blocks, no
    marker segment copied; the output is sequential (baseline).

    Raises ``TransformRefused`` when ``perfect`` and the edges are not whole
    MCUs, and ``MediaError`` when libjpeg cannot read the coded data (a
    warning, such as data cut short, counts: as jpegtran's exit status 2 did).
    """
    library = _library()
    handle = library.tjInitTransform()
    if not handle:
        raise MemoryError("TurboJPEG could not start a transform")
    try:
        options = _TJXOPT_COPYNONE | (_TJXOPT_PERFECT if perfect else 0)
        request = _Transform(op=operation, options=options)
        out, size = _Buffer(), ctypes.c_ulong(0)
        failed = library.tjTransform(
            handle,
            stream,
            len(stream),
            1,
            ctypes.byref(out),
            ctypes.byref(size),
            ctypes.byref(request),
            _TJFLAG_LIMITSCANS,
        )
        try:
            if not failed and out and size.value:
                return ctypes.string_at(out, size.value)
        finally:
            if out:
                library.tjFree(out)
        detail = (library.tjGetErrorStr2(handle) or b"").decode(errors="replace").strip()
    finally:
        library.tjDestroy(handle)
    if _NOT_PERFECT in detail:
        raise TransformRefused(detail)
    raise MediaError(
        "the JPEG's image data is corrupt"
        + (f" ({detail.removeprefix('tjTransform(): ')})" if detail else "")
    )


def rotate_lossless(stream: bytes, orientation: int) -> bytes:
    """Apply EXIF ``orientation`` by moving DCT blocks; see ``transform``."""
    return transform(stream, ORIENTATION_TRANSFORM[orientation], perfect=True)


def to_baseline(stream: bytes) -> bytes:
    """Rewrite a progressive stream as sequential with the same coefficients."""
    return transform(stream)
