"""The reconciliation thumbnail of a decompression bomb is refused, never decoded, never a 500."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture
from hub.captures.receive import Upload, capture_receive
from tests.media import make_jpeg

pytestmark = pytest.mark.django_db


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG whose header claims `width` x `height` 1-bit pixels: a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    # Only the first rows' worth is needed for a decoder to start allocating the whole image.
    idat = compressor.compress(row * 64) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def capture_of(content: bytes, name: str) -> Capture:
    user = user_create_or_update(username="nurse", role=Role.CAPTURER)
    return capture_receive(
        user=user,
        upload=Upload(name=name, size=len(content), head=content[:4096], chunks=[content]),
        context_data={"patient": {"id": "MRN-1"}},
        max_bytes=10**9,
    ).capture


def operator_browser() -> Client:
    browser = Client(raise_request_exception=True)
    browser.force_login(user_create_or_update(username="imaging-it", role=Role.OPERATOR))
    return browser


def thumbnail_url(capture: Capture) -> str:
    return f"/admin/captures/capture/{capture.id}/reconcile/thumbnail/"


@pytest.mark.parametrize(
    "size", [(40_000, 40_000), (10_000, 10_000)], ids=["past Pillow's error", "past its warning"]
)
def test_the_thumbnail_of_a_decompression_bomb_png_is_refused_without_a_server_error(
    private_data_dir: Path, size: tuple[int, int]
) -> None:
    capture = capture_of(png_claiming(*size), "bomb.png")
    response = operator_browser().get(thumbnail_url(capture))
    assert response.status_code == 404


def test_the_thumbnail_of_an_ordinary_photo_is_still_drawn(
    private_data_dir: Path, tmp_path: Path
) -> None:
    photo = make_jpeg(tmp_path / "photo.jpg", width=640, height=480).read_bytes()
    response = operator_browser().get(thumbnail_url(capture_of(photo, "photo.jpg")))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
