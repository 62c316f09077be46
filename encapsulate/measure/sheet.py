"""A printable sheet of calibration stickers, as SVG or PDF, drawn in millimetres.

Each sticker is a DICT_4X4_50 marker (ids 0, 1, 2, ...) whose black square
is ``marker_mm`` wide, in a white quiet zone of a quarter side (1.5 cells;
the detector needs at least one), with its id and size printed under it and
a light cut line around. A 100 mm ruler on the sheet checks that it was
printed at 100 %. Both formats are written here without a drawing library:
SVG with ``mm`` units, PDF 1.4 in points (1 mm = 72 / 25.4 pt) with the
standard Helvetica font.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2

from encapsulate.measure.marker import DEFAULT_MARKER_MM, DICTIONARY, DICTIONARY_NAME

PAGES = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN = 12.0
HEADER = 46.0
GAP = 4.0
LABEL = 4.0
_PT = 72 / 25.4


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    grey: float = 0.0  # 0 black, 1 white
    stroke: bool = False


@dataclass(frozen=True)
class _Text:
    x: float
    y: float
    size: float
    text: str
    centred: bool = False


def _marker_rects(marker_id: int, x: float, y: float, side: float) -> list[_Rect]:
    bits = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(DICTIONARY), marker_id, 6
    )
    cell = side / 6
    rects = []
    for r in range(6):
        c = 0
        while c < 6:
            if bits[r, c] == 0:
                start = c
                while c < 6 and bits[r, c] == 0:
                    c += 1
                rects.append(_Rect(x + start * cell, y + r * cell, (c - start) * cell, cell))
            else:
                c += 1
    return rects


def _layout(marker_mm: float, page: str) -> tuple[float, float, list[_Rect | _Text]]:
    if page not in PAGES:
        raise ValueError(f"page must be one of {', '.join(PAGES)}")
    width, height = PAGES[page]
    quiet = marker_mm / 4
    sticker_w, sticker_h = marker_mm + 2 * quiet, marker_mm + 2 * quiet + LABEL
    columns = int((width - 2 * MARGIN + GAP) // (sticker_w + GAP))
    rows = int((height - 2 * MARGIN - HEADER + GAP) // (sticker_h + GAP))
    if columns < 1 or rows < 1:
        raise ValueError(f"a {marker_mm:g} mm marker does not fit on a {page} page")
    count = min(columns * rows, 50)
    items: list[_Rect | _Text] = [
        _Text(
            MARGIN,
            MARGIN + 5,
            5,
            f"Wound measurement stickers: ArUco {DICTIONARY_NAME}, {marker_mm:g} mm",
        ),
        _Text(
            MARGIN,
            MARGIN + 11,
            3.2,
            "Print at 100 % (actual size): turn off 'fit to page' "
            "and any scaling. Matte paper or label sheets.",
        ),
        _Text(
            MARGIN,
            MARGIN + 16,
            3.2,
            f"Check with a ruler: the bar below is 100 mm and each "
            f"black square is {marker_mm:g} mm. Off by more than 1 %: do not use.",
        ),
        _Text(
            MARGIN,
            MARGIN + 21,
            3.2,
            "Stick one flat on the skin beside the wound, in the "
            "wound's plane, whole in the photo; never reuse a sticker.",
        ),
    ]
    ruler_y = MARGIN + 30
    items.append(_Rect(MARGIN, ruler_y, 100.0, 0.4))
    for mm in range(101):
        tick = 5.0 if mm % 10 == 0 else 3.5 if mm % 5 == 0 else 2.0
        items.append(_Rect(MARGIN + mm - 0.1, ruler_y, 0.2, tick))
        if mm % 10 == 0:
            items.append(_Text(MARGIN + mm, ruler_y + 9, 2.8, str(mm), centred=True))
    items.append(_Text(MARGIN + 104, ruler_y + 4, 3.2, "mm: this bar must measure 100 mm"))
    top = MARGIN + HEADER
    for n in range(count):
        r, c = divmod(n, columns)
        x = MARGIN + c * (sticker_w + GAP)
        y = top + r * (sticker_h + GAP)
        items.append(_Rect(x, y, sticker_w, sticker_h, grey=0.75, stroke=True))
        items.extend(_marker_rects(n, x + quiet, y + quiet, marker_mm))
        items.append(
            _Text(
                x + sticker_w / 2,
                y + sticker_h - 1.5,
                2.4,
                f"id {n} · {marker_mm:g} mm",
                centred=True,
            )
        )
    return width, height, items


def _escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def marker_sheet_svg(*, marker_mm: float = DEFAULT_MARKER_MM, page: str = "a4") -> str:
    """The sheet as an SVG document whose user unit is the millimetre."""
    width, height, items = _layout(marker_mm, page)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {width:g} {height:g}" shape-rendering="crispEdges">',
        f'<rect width="{width:g}" height="{height:g}" fill="#fff"/>',
    ]
    for item in items:
        if isinstance(item, _Text):
            anchor = ' text-anchor="middle"' if item.centred else ""
            lines.append(
                f'<text x="{item.x:.3f}" y="{item.y:.3f}" font-family="Helvetica, Arial, '
                f'sans-serif" font-size="{item.size:g}"{anchor}>{_escape_xml(item.text)}</text>'
            )
        elif item.stroke:
            lines.append(
                f'<rect x="{item.x:.3f}" y="{item.y:.3f}" width="{item.w:.3f}" '
                f'height="{item.h:.3f}" fill="none" stroke="#bbb" stroke-width="0.2" '
                'stroke-dasharray="1 1"/>'
            )
        else:
            lines.append(
                f'<rect x="{item.x:.4f}" y="{item.y:.4f}" width="{item.w:.4f}" '
                f'height="{item.h:.4f}" fill="#000"/>'
            )
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def _escape_pdf(text: str) -> str:
    latin = text.replace("·", "-").encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def marker_sheet_pdf(*, marker_mm: float = DEFAULT_MARKER_MM, page: str = "a4") -> bytes:
    """The sheet as a one-page PDF 1.4 (vector; Helvetica, not embedded)."""
    width, height, items = _layout(marker_mm, page)
    ops = [f"{_PT:.6f} 0 0 {-_PT:.6f} 0 {height * _PT:.4f} cm"]  # mm, y down
    for item in items:
        if isinstance(item, _Text):
            # Text is drawn in its own upright frame (y up), sized in mm.
            shift = len(item.text) * item.size * 0.25 if item.centred else 0.0
            ops.append(
                f"BT /F1 1 Tf {item.size:g} 0 0 {-item.size:g} {item.x - shift:.3f} "
                f"{item.y:.3f} Tm ({_escape_pdf(item.text)}) Tj ET"
            )
        elif item.stroke:
            ops.append(
                f"q 0.75 G 0.2 w [1 1] 0 d {item.x:.3f} {item.y:.3f} {item.w:.3f} "
                f"{item.h:.3f} re S Q"
            )
        else:
            ops.append(f"0 g {item.x:.4f} {item.y:.4f} {item.w:.4f} {item.h:.4f} re f")
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width * _PT:.2f} {height * _PT:.2f}] "
            "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ).encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
