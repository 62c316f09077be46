"""Checks shared by the tests of every DICOM-producing package."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tests.media import MAKERNOTE, PRIVATE_STRINGS

# Warnings every object may get and why they are accepted:
DOCUMENTED_WARNINGS = (
    # Study ID (type 2) is empty: the hub assigns none (an archive or the RIS may).
    "Missing attribute or value that would be needed to build DICOMDIR - Study ID",
    # ISO_23008_2 (HEVC) joined PS3.3 C.7.6.1.1.5.1 after this dciodvfy build (2022-06).
    "Unrecognized defined term <ISO_23008_2> for value 1 of attribute "
    "<Lossy Image Compression Method>",
    # The first step of a transcoded VP9 video: a term named after the codec, as
    # PS3.3 C.7.6.1.1.5.1 allows (its defined terms name no VP9).
    "Unrecognized defined term <VP9> for value 1 of attribute <Lossy Image Compression Method>",
    # DMS (Dermoscopy, PS3.3 C.7.3.1.1.1) is newer than this build.
    "Unrecognized defined term <DMS> for value 1 of attribute <Modality>",
    # US Multi-frame holding H.264: the MPEG transfer syntaxes require YBR_PARTIAL_420
    # (PS3.5 8.2.5-8.2.11); this build's US Image module (C.8.5.6.1.2) does not list
    # it. Not checked against the current PS3.3 text: an open question.
    "Unrecognized defined term <YBR_PARTIAL_420> for value 1 of attribute "
    "<Photometric Interpretation>",
)


def _dciodvfy_lines(path: Path) -> list[str]:
    done = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, errors="replace", check=False
    )
    return (done.stdout + done.stderr).splitlines()


def dciodvfy_errors(path: Path) -> list[str]:
    """The ``Error -`` lines dicom3tools' dciodvfy reports for the file at ``path``."""
    return [line for line in _dciodvfy_lines(path) if line.startswith("Error -")]


def dciodvfy_findings(path: Path) -> list[str]:
    """Every ``Error -`` line, and every ``Warning -`` line not in DOCUMENTED_WARNINGS."""
    return [
        line
        for line in _dciodvfy_lines(path)
        if line.startswith("Error -")
        or (
            line.startswith("Warning -") and not any(known in line for known in DOCUMENTED_WARNINGS)
        )
    ]


def assert_dciodvfy_clean(path: Path) -> None:
    """No dciodvfy error and no warning beyond the documented ones."""
    findings = dciodvfy_findings(path)
    assert not findings, "\n".join(findings)


def psnr(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two 8-bit images of the same shape."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise AssertionError(f"shapes differ: {x.shape} vs {y.shape}")
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def upright(image: Image.Image) -> Image.Image:
    """``image`` with its EXIF orientation applied, as a viewer shows it."""
    return ImageOps.exif_transpose(image)


def assert_no_private_metadata(data: bytes) -> None:
    """No EXIF (with GPS, serials, maker note, thumbnail), XMP, IPTC or trailer image."""
    assert b"Exif\x00\x00" not in data, "an EXIF block is left"
    assert b"II*\x00\x08\x00\x00\x00" not in data, "a TIFF (EXIF) header is left"
    assert b"http://ns.adobe.com/xap" not in data, "an XMP packet is left"
    assert b"<x:xmpmeta" not in data, "an XMP packet is left"
    assert b"Photoshop 3.0" not in data, "an IPTC block is left"
    assert b"MPF\x00" not in data, "an MPF segment is left"
    assert MAKERNOTE[:16] not in data, "the maker note is left"
    for text in PRIVATE_STRINGS:
        assert text.encode() not in data, f"{text!r} is left"
    assert data.count(b"\xff\xd8\xff") <= 1, "a second image (thumbnail or trailer) is left"
