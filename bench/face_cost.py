"""CPU of face detection per 12 MP photo, as inspection runs it, against the earlier setting.

Photos: bench/photos.py's 12 MP phone-like JPEGs (upright 4000x3000, and
4032x3024 with EXIF orientation 6). "Now" is what ``inspect_jpeg`` runs: the
DCT-scaled preview decode (``jpeg_wrap.preview_pixels``, 1/8 scale for these)
and ``count_faces`` on a copy ``FACE_DETECTION_SIDE`` (480) pixels long.
"Before" is the earlier setting, measured here in the same run: the preview
decoded at 1/4 scale (a 640-pixel box) and the cascade on a 640-pixel copy.
CPU is user + system of this process (OpenCV's threads included), the median
of ``-n`` runs after one warm-up. Then the recall of both settings: the real
portrait of the face tests pasted into a 12 MP frame at decreasing heights,
and the smallest found by each. Last, a wound photo's inspection and
measurement together (``inspect_media`` with the wound specialty, then
``measure_photo``, which refuses these marker-less photos after the search):
"two decodes" is a photo not measured next in the same process (the preview
and the search copy decoded each), "one decode" one that is
(``for_measurement``: the preview derived from the search copy, which the
measurement takes).

    .venv/bin/python bench/face_cost.py [-n 15] [--wound-only]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.photos import bases
from encapsulate import Specialty, inspect_media
from encapsulate.measure import MeasurementRefused, measure_photo
from encapsulate.media.privacy import FACE_DETECTION_SIDE, count_faces
from encapsulate.photo.camera_jpeg import read_camera_jpeg
from encapsulate.photo.jpeg_wrap import preview_pixels
from tests.media import picture
from tests.media_photos import face_photo

BEFORE_SIDE = 640
PORTRAIT_HEIGHTS = (0.10, 0.11, 0.12, 0.125, 0.13, 0.14, 0.16, 0.20, 0.30, 0.50)


def preview_before(data: bytes) -> np.ndarray:
    """The preview as it was decoded before: a draft into a 640-pixel box (1/4 scale at 12 MP)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", (BEFORE_SIDE, BEFORE_SIDE))
        image.load()
        return np.asarray(ImageOps.exif_transpose(image).convert("L"))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median_cpu(run: Callable[[], object], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = _cpu()
        run()
        times.append(_cpu() - started)
    return statistics.median(times)


def _smallest_found(side: int) -> str:
    frame = np.asarray(picture(4000, 3000).convert("RGB"))
    portrait = face_photo()
    found = "none"
    for share in sorted(PORTRAIT_HEIGHTS, reverse=True):
        height = int(3000 * share)
        width = int(height * portrait.width / portrait.height)
        image = frame.copy()
        image[300 : 300 + height, 1500 : 1500 + width] = np.asarray(
            portrait.resize((width, height))
        )
        grey = np.asarray(Image.fromarray(image).convert("L").reduce(8))
        if not count_faces(grey, side=side):
            break
        found = f"{share:.3f} of the frame's height"
    return found


def inspected_and_measured(path: Path, *, for_measurement: bool) -> int | None:
    """A wound photo's inspection then measurement, as the cpu task chains them;
    the faces inspection found."""
    faces = inspect_media(path, specialty=Specialty.WOUND, for_measurement=for_measurement).faces
    # No marker in these photos: refused after the search, as most wound photos are.
    with contextlib.suppress(MeasurementRefused):
        measure_photo(path)
    return faces


def _wound_rows(photos: tuple[Path, Path], repeat: int) -> None:
    print()
    print("| wound photo: inspect + measure | two decodes | one decode | saved | faces two / one |")
    print("| --- | --- | --- | --- | --- |")
    for label, path in zip(("upright 4000x3000", "orientation 6, 4032x3024"), photos, strict=True):
        faces = [inspected_and_measured(path, for_measurement=f) for f in (False, True)]
        # Taken in turns, so that a neighbour's load on the machine weighs on both alike.
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeat):
            for shared in (False, True):
                started = _cpu()
                inspected_and_measured(path, for_measurement=shared)
                times[shared].append(_cpu() - started)
        two, one = (statistics.median(times[shared]) for shared in (False, True))
        print(
            f"| {label} | {two:.4f} | {one:.4f} | {two - one:.4f} ({(two - one) / two:.0%}) "
            f"| {faces[0]} / {faces[1]} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="repetitions (median)")
    parser.add_argument("--wound-only", action="store_true", help="only the inspect + measure rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = bases(Path(tmp))
        if args.wound_only:
            _wound_rows(photos, args.n)
            return
        print(
            "| photo | preview now | cascade now | faces now | preview before | cascade before "
            "| faces before | now / before |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for label, path in zip(
            ("upright 4000x3000", "orientation 6, 4032x3024"), photos, strict=True
        ):
            jpeg = read_camera_jpeg(path)
            now_preview = preview_pixels(jpeg)
            old_preview = preview_before(jpeg.data)
            decode_now = _median_cpu(lambda j=jpeg: preview_pixels(j), args.n)
            decode_before = _median_cpu(lambda d=jpeg.data: preview_before(d), args.n)
            cascade_now = _median_cpu(lambda g=now_preview: count_faces(g), args.n)
            cascade_before = _median_cpu(
                lambda g=old_preview: count_faces(g, side=BEFORE_SIDE), args.n
            )
            total_now, total_before = decode_now + cascade_now, decode_before + cascade_before
            print(
                f"| {label} | {decode_now:.4f} | {cascade_now:.4f} | {count_faces(now_preview)} "
                f"| {decode_before:.4f} | {cascade_before:.4f} "
                f"| {count_faces(old_preview, side=BEFORE_SIDE)} "
                f"| {total_now:.4f} / {total_before:.4f} = {total_now / total_before:.2f} |"
            )
        _wound_rows(photos, args.n)
    print()
    print("| setting | smallest portrait found in a 12 MP frame |")
    print("| --- | --- |")
    print(f"| now, {FACE_DETECTION_SIDE} px | {_smallest_found(FACE_DETECTION_SIDE)} |")
    print(f"| before, {BEFORE_SIDE} px | {_smallest_found(BEFORE_SIDE)} |")


if __name__ == "__main__":
    main()
