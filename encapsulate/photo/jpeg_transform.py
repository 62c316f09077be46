"""Lossless JPEG transforms (jpegtran).

EXIF orientation must be applied to the pixels because DICOM has no display
rotation for photos (STANDARDS.md, Photos). jpegtran rearranges DCT blocks
without decoding, so the camera's coefficients survive; it can only do so when
the affected edges are whole MCUs (``-perfect`` refuses otherwise), and then
the photo is decoded and stored losslessly (``camera_jpeg.NotWholeMcus``).
"""

from __future__ import annotations

import shutil
import subprocess

from encapsulate.errors import MediaError

# EXIF orientation -> the jpegtran transform that makes the image upright
# (the same mapping as PIL.ImageOps.exif_transpose).
JPEGTRAN_TRANSFORM: dict[int, tuple[str, ...]] = {
    2: ("-flip", "horizontal"),
    3: ("-rotate", "180"),
    4: ("-flip", "vertical"),
    5: ("-transpose",),
    6: ("-rotate", "90"),
    7: ("-transverse",),
    8: ("-rotate", "270"),
}
_NOT_PERFECT = b"not perfect"


class TransformRefused(Exception):
    """jpegtran -perfect cannot transform this image losslessly (partial edge MCUs)."""


def _jpegtran_path() -> str:
    found = shutil.which("jpegtran")
    if found is None:
        # A deployment fault, not the user's: let the hub retry after it is fixed.
        raise RuntimeError("jpegtran is not installed (Debian package libjpeg-turbo-progs)")
    return found


def jpegtran(stream: bytes, *args: str) -> bytes:
    """Run ``jpegtran ARGS -copy none`` on ``stream``; output is sequential (baseline).

    Raises ``TransformRefused`` when ``-perfect`` refuses and ``MediaError`` when
    libjpeg cannot read the coded data.
    """
    done = subprocess.run(
        [_jpegtran_path(), *args, "-copy", "none"],
        input=stream,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        if _NOT_PERFECT in done.stderr:
            raise TransformRefused(done.stderr.decode(errors="replace").strip())
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise MediaError(
            "the JPEG's image data is corrupt"
            + (f" ({detail[-1].removeprefix('jpegtran: ')})" if detail else "")
        )
    return done.stdout


def rotate_lossless(stream: bytes, orientation: int) -> bytes:
    """Apply EXIF ``orientation`` by moving DCT blocks; see ``jpegtran``."""
    return jpegtran(stream, "-perfect", *JPEGTRAN_TRANSFORM[orientation])


def to_baseline(stream: bytes) -> bytes:
    """Rewrite a progressive stream as sequential with the same coefficients."""
    return jpegtran(stream)
