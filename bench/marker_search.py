"""CPU of the wound measurement's marker search per photo, against the full-resolution search.

Photos: bench/photos.py's 12 MP phone-like JPEGs without a marker (upright
4000x3000, and 4032x3024 with EXIF orientation 6), and a rendered 12 MP
wound photo with a 20 mm marker (tests/encapsulate/measure/scenes.py,
4000x3000, 20° tilt, quality 92), measured with its true outline. Each is
measured by ``encapsulate.measure.measure_photo`` as the hub runs it, and by
the reference in this file: the search as it was before the search copy (a
full decode, the ArUco search on the full-resolution grey image, the same
corner refinement and measurement). CPU is user + system of this process
(OpenCV's threads included), the median of ``-n`` runs after one warm-up.

    .venv/bin/python bench/marker_search.py [-n 7]
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.photos import bases
from encapsulate.measure import MeasurementRefused, measure_photo
from encapsulate.measure.marker import Marker, _detector
from encapsulate.measure.marker_edges import refine_corners
from encapsulate.measure.photo_measure import _measured, read_displayed
from tests.encapsulate.measure.scenes import render


def full_resolution_measure(path: Path, outline: object | None) -> object:
    """The measurement with the marker sought on the full-resolution image (the code
    before the search copy)."""
    photo = read_displayed(path)
    gray = cv2.cvtColor(photo.pixels, cv2.COLOR_BGR2GRAY)
    corners, ids, _ = _detector().detectMarkers(gray)
    markers = [
        Marker(id=int(i), corners=refine_corners(gray, np.asarray(c, float).reshape(4, 2)) + 0.5)
        for c, i in zip(corners, [] if ids is None else ids.ravel(), strict=True)
    ]
    return _measured(
        photo.pixels,
        markers,
        outline=outline,
        seed=None,
        marker_mm=20.0,
        focal_35mm=photo.focal_35mm,
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median_cpu(run: Callable[[], object], repeat: int) -> tuple[float, str]:
    def once() -> str:
        try:
            result = run()
        except MeasurementRefused as refusal:
            return "refused: " + refusal.reason.split(":")[0]
        return f"{result.size.area_cm2:.3f} cm²"

    outcome = once()
    times = []
    for _ in range(repeat):
        started = _cpu()
        once()
        times.append(_cpu() - started)
    return statistics.median(times), outcome


def _marker_photo(folder: Path) -> tuple[Path, object]:
    shot = render(width=4000, height=3000, distance_mm=300.0, tilt_deg=20.0, roll_deg=10.0)
    path = folder / "marker_12mp.jpg"
    out = io.BytesIO()
    Image.fromarray(shot.image).save(out, format="JPEG", quality=92, subsampling="4:2:0")
    path.write_bytes(out.getvalue())
    return path, shot.outline.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=7, help="repetitions (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        upright, rotated = bases(folder)
        marked, outline = _marker_photo(folder)
        cases = [
            ("no marker, upright 4000x3000", upright, None),
            ("no marker, orientation 6, 4032x3024", rotated, None),
            ("marker, 4000x3000, traced outline", marked, outline),
            ("marker, 4000x3000, automatic outline", marked, None),
        ]
        print(
            "| photo | measure_photo CPU-s | full-resolution search CPU-s "
            "| measure_photo / full-resolution | outcome |"
        )
        print("| --- | --- | --- | --- | --- |")
        for label, path, given in cases:
            now, outcome = _median_cpu(lambda p=path, g=given: measure_photo(p, outline=g), args.n)
            before, before_outcome = _median_cpu(
                lambda p=path, g=given: full_resolution_measure(p, g), args.n
            )
            if before_outcome != outcome:
                outcome += f" (full-resolution: {before_outcome})"
            print(f"| {label} | {now:.3f} | {before:.3f} | {now / before:.2f} | {outcome} |")


if __name__ == "__main__":
    main()
