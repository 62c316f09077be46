"""Content sniffing and the JPEG marker walker, including on random bytes."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encapsulate import MediaError, MediaType, UnsupportedMediaError, inspect_media, sniff
from encapsulate.media.exif import read_exif
from encapsulate.media.sniff import identify, sniff_file
from encapsulate.photo.jpeg_markers import parse_jpeg
from tests.media import make_jpeg, make_text_as_jpg, make_truncated_jpeg


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe1rest", MediaType.JPEG),
        (b"\x89PNG\r\n\x1a\n....", MediaType.PNG),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", MediaType.HEIF),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", MediaType.MP4),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", MediaType.QUICKTIME),
        (b"%PDF-1.7\n", MediaType.PDF),
        (b"\x00" * 128 + b"DICM", MediaType.DICOM),
        (b"hello", None),
    ],
)
def test_sniff(head: bytes, expected: MediaType | None) -> None:
    assert sniff(head) == expected


def test_sniff_file_reasons(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match=r"^the file is empty$"):
        sniff_file(empty)
    with pytest.raises(UnsupportedMediaError, match=r"^the file is text, not an image or video"):
        sniff_file(make_text_as_jpg(tmp_path / "note.jpg"))
    binary = tmp_path / "blob.jpg"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(UnsupportedMediaError, match="not in a recognised"):
        sniff_file(binary)
    with pytest.raises(MediaError, match="cannot be read"):
        sniff_file(tmp_path / "missing.jpg")


def test_identify_head_bytes() -> None:
    assert identify(b"\xff\xd8\xff\xe0") is MediaType.JPEG
    with pytest.raises(MediaError, match="the file is empty"):
        identify(b"")
    with pytest.raises(UnsupportedMediaError, match="the file is text"):
        identify(b"just some notes\n")


def test_inspect_media(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "i.jpg", width=320, height=240, orientation=6, icc=True)
    info = inspect_media(source)
    as_json = info.as_json()
    assert as_json["kind"] == "photo" and as_json["mime_type"] == "image/jpeg"
    assert (info.rows, info.columns, info.upright_rows, info.upright_columns) == (
        240,
        320,
        320,
        240,
    )
    assert info.orientation == 6
    assert as_json["captured_at"] == "2026-11-28T10:15:00+01:00"
    assert (info.make, info.model, info.sof, info.components, info.subsampling) == (
        "FixtureCam",
        "FC-12 Pro",
        "baseline",
        3,
        "4:2:0",
    )
    for name in ("GPS", "MakerNote", "BodySerialNumber", "Thumbnail", "XMP", "IPTC", "Comment"):
        assert name in as_json["private_metadata"]


def test_truncated_jpeg_is_refused_by_inspect(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="the JPEG is truncated"):
        inspect_media(make_truncated_jpeg(tmp_path / "cut.jpg"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_sniff_never_raises(data: bytes) -> None:
    assert sniff(data) is None or isinstance(sniff(data), MediaType)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_marker_walker_raises_only_media_errors(data: bytes) -> None:
    for candidate in (data, b"\xff\xd8" + data, b"\xff\xd8\xff\xc0" + data):
        with contextlib.suppress(MediaError):
            parse_jpeg(candidate)


@pytest.fixture(scope="module")
def valid_jpeg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("valid")
    return make_jpeg(folder / "v.jpg", width=48, height=32, thumbnail=False).read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_jpeg_raises_only_media_errors(valid_jpeg: bytes, data: st.DataObject) -> None:
    damaged = bytearray(valid_jpeg)
    for _ in range(data.draw(st.integers(1, 8))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    with contextlib.suppress(MediaError):
        parse_jpeg(bytes(damaged[:cut]))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_exif_reader_never_raises(data: bytes) -> None:
    facts = read_exif(b"Exif\x00\x00" + data)
    assert 1 <= facts.orientation <= 8
