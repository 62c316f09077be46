"""The ``measure`` and ``marker-sheet`` commands of ``python -m encapsulate``.

``measure PHOTO [--outline OUTLINE.json] [--at X,Y] [--marker-mm MM]``
prints one JSON object (``WoundMeasurement.as_json``). ``OUTLINE.json`` is
``{"points": [[x, y], ...]}`` in the photo's displayed pixels; without it
the wound is outlined automatically from ``--at`` (default: the centre).
The marker's printed side comes from ``--marker-mm``, else the environment's
``HUB_MARKER_MM``, else 20 mm. A refusal exits 2 with its reason.

``marker-sheet --out SHEET.svg|SHEET.pdf [--marker-mm MM] [--page a4|letter]``
writes a printable sheet of stickers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

from encapsulate.measure.refusal import MeasurementRefused

# The commands are registered on every run of the CLI; OpenCV is imported only
# when one of them runs.
MARKER_MM_ENV = "HUB_MARKER_MM"
PAGES = ("a4", "letter")


def _marker_mm(given: float | None) -> float:
    from encapsulate.measure.marker import DEFAULT_MARKER_MM

    if given is not None:
        value, source = given, "--marker-mm"
    else:
        text = os.environ.get(MARKER_MM_ENV)
        if text is None:
            return DEFAULT_MARKER_MM
        source = MARKER_MM_ENV
        try:
            value = float(text)
        except ValueError:
            raise MeasurementRefused(f"{MARKER_MM_ENV}={text!r} is not a number of mm") from None
    if not (math.isfinite(value) and 5 <= value <= 200):
        raise MeasurementRefused(f"{source} must be a marker side from 5 to 200 mm, not {value:g}")
    return value


def _outline(path: Path) -> object:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MeasurementRefused(
            f"the outline file cannot be read: {error.strerror or error}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MeasurementRefused(f"the outline file is not valid JSON: {error}") from None
    if not isinstance(data, dict) or "points" not in data:
        raise MeasurementRefused('the outline file must be {"points": [[x, y], ...]}')
    return data["points"]


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("give the point as X,Y in pixels") from None
    return x, y


def _measure(args: argparse.Namespace) -> None:
    from encapsulate.measure.photo_measure import measure_photo

    marker_mm = _marker_mm(args.marker_mm)
    outline = _outline(args.outline) if args.outline else None
    if not args.photo.is_file():
        raise MeasurementRefused(f"{args.photo} is not a file")
    measurement = measure_photo(args.photo, outline=outline, seed=args.at, marker_mm=marker_mm)
    print(json.dumps(measurement.as_json()))


def _marker_sheet(args: argparse.Namespace) -> None:
    from encapsulate.measure.sheet import marker_sheet_pdf, marker_sheet_svg

    marker_mm = _marker_mm(args.marker_mm)
    suffix = args.out.suffix.lower()
    if suffix == ".svg":
        args.out.write_text(marker_sheet_svg(marker_mm=marker_mm, page=args.page), encoding="utf-8")
    elif suffix == ".pdf":
        args.out.write_bytes(marker_sheet_pdf(marker_mm=marker_mm, page=args.page))
    else:
        raise MeasurementRefused("--out must end in .svg or .pdf")
    print(args.out)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``measure`` and ``marker-sheet`` on ``python -m encapsulate``'s parser."""
    measure = commands.add_parser(
        "measure", help="measure a wound beside a calibration marker; print JSON"
    )
    measure.add_argument("photo", type=Path, metavar="PHOTO")
    given = measure.add_mutually_exclusive_group()
    given.add_argument("--outline", type=Path, help='JSON {"points": [[x, y], ...]}')
    given.add_argument("--at", type=_point, metavar="X,Y", help="outline automatically from here")
    measure.add_argument(
        "--marker-mm", type=float, help=f"printed marker side (default ${MARKER_MM_ENV} or 20)"
    )
    measure.set_defaults(run=_measure)
    sheet = commands.add_parser("marker-sheet", help="write a printable sheet of markers")
    sheet.add_argument("--out", type=Path, required=True, help="SHEET.svg or SHEET.pdf")
    sheet.add_argument("--marker-mm", type=float, help="printed marker side (default 20)")
    sheet.add_argument("--page", choices=PAGES, default="a4")
    sheet.set_defaults(run=_marker_sheet)
