"""The in-process lossless transform writes what ``jpegtran -perfect -copy none``
writes, refuses what it refuses, and says so when the coded data is bad."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from encapsulate.errors import MediaError
from encapsulate.photo.jpeg_markers import parse_jpeg
from encapsulate.photo.jpeg_transform import (
    ORIENTATION_TRANSFORM,
    TransformRefused,
    rotate_lossless,
    to_baseline,
)
from tests.media import make_jpeg

# jpegtran's arguments for each EXIF orientation (the test packages carry it).
JPEGTRAN = {
    2: ("-flip", "horizontal"),
    3: ("-rotate", "180"),
    4: ("-flip", "vertical"),
    5: ("-transpose",),
    6: ("-rotate", "90"),
    7: ("-transverse",),
    8: ("-rotate", "270"),
}


def jpegtran(stream: bytes, *args: str) -> bytes:
    return subprocess.run(
        ["jpegtran", *args, "-copy", "none"], input=stream, capture_output=True, check=True
    ).stdout


@pytest.mark.parametrize("orientation", sorted(ORIENTATION_TRANSFORM))
@pytest.mark.parametrize("subsampling", ["4:2:0", "4:4:4"])
def test_each_orientation_gives_jpegtrans_bytes(
    tmp_path: Path, orientation: int, subsampling: str
) -> None:
    source = make_jpeg(tmp_path / "p.jpg", width=320, height=240, subsampling=subsampling)
    stream = source.read_bytes()
    turned = rotate_lossless(stream, orientation)
    assert turned == jpegtran(stream, "-perfect", *JPEGTRAN[orientation])
    frame = parse_jpeg(turned).frame
    upright = (320, 240) if orientation in (2, 3, 4) else (240, 320)
    assert (frame.rows, frame.columns) == upright[::-1]
    assert frame.process == "baseline"


def test_progressive_becomes_the_baseline_jpegtran_writes(tmp_path: Path) -> None:
    stream = make_jpeg(tmp_path / "p.jpg", width=320, height=240, progressive=True).read_bytes()
    assert parse_jpeg(stream).frame.process == "progressive"
    baseline = to_baseline(stream)
    assert baseline == jpegtran(stream)
    assert parse_jpeg(baseline).frame.process == "baseline"


@pytest.mark.parametrize("orientation", sorted(ORIENTATION_TRANSFORM))
def test_edges_that_are_not_whole_mcus_are_refused_as_jpegtran_refuses(
    tmp_path: Path, orientation: int
) -> None:
    stream = make_jpeg(tmp_path / "r.jpg", width=333, height=251).read_bytes()
    refused = subprocess.run(
        ["jpegtran", "-perfect", *JPEGTRAN[orientation], "-copy", "none"],
        input=stream,
        capture_output=True,
        check=False,
    )
    if refused.returncode == 0:
        # A transpose moves no edge block: both do it, with the same bytes.
        assert rotate_lossless(stream, orientation) == refused.stdout
    else:
        assert b"not perfect" in refused.stderr
        with pytest.raises(TransformRefused, match="not perfect"):
            rotate_lossless(stream, orientation)


def _scan_start(stream: bytes) -> int:
    structure = parse_jpeg(stream)
    sos = next(s for s in structure.segments if s.marker == 0xDA)
    return sos.end


def test_coded_data_cut_short_is_a_media_error(tmp_path: Path) -> None:
    stream = make_jpeg(tmp_path / "c.jpg", width=320, height=240).read_bytes()
    start = _scan_start(stream)
    cut = stream[: start + (len(stream) - start) // 2]
    with pytest.raises(MediaError, match=r"^the JPEG's image data is corrupt \(.+\)$"):
        rotate_lossless(cut, 6)
    with pytest.raises(MediaError, match=r"^the JPEG's image data is corrupt"):
        to_baseline(cut)


def test_not_a_jpeg_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="corrupt"):
        rotate_lossless(b"\xff\xd8\xff\xe0 this is not a JPEG", 6)
