"""Time encapsulate.wrap against DCMTK's img2dcm on 12 MP camera-like JPEGs.

Run from the repository root:  .venv/bin/python bench/wrap_photo.py [-n 10]

Upright photo (4000x3000): wrap() in-process vs ``img2dcm -vlp``.
Rotated photo (orientation 6, 4032x3024, MCU-aligned): wrap() vs
``jpegtran -perfect -rotate 90`` + ``img2dcm -vlp`` (img2dcm alone cannot
rotate). The img2dcm side is a subprocess loop, as a shell script would run it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from encapsulate import InstanceIdentity, inspect_media, parse_context, wrap
from tests.media import make_jpeg

CONTEXT = parse_context(
    {
        "patient": {"id": "MRN-0042", "name": "DOE^JANE", "sex": "F"},
        "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
        "captured_at": "2026-11-28T10:15:00+01:00",
    }
)


def _time(runs: int, step: Callable[[int], None]) -> list[float]:
    step(-1)  # warm-up: imports, page cache
    times = []
    for i in range(runs):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    return times


def _img2dcm(source: Path, target: Path) -> None:
    subprocess.run(
        ["img2dcm", "-vlp", "-k", "ImageLaterality=U", str(source), str(target)],
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        out = work / "out"
        out.mkdir()
        upright = make_jpeg(work / "upright.jpg", width=4000, height=3000, quality=92)
        rotated = make_jpeg(
            work / "rotated.jpg", width=4032, height=3024, orientation=6, quality=92
        )

        def ours(source: Path) -> Callable[[int], None]:
            # As the hub's encapsulate step runs it: the face count comes from
            # the inspect step, which ran before (timed on its own below).
            faces = inspect_media(source).faces
            return lambda _: wrap(
                source,
                context=CONTEXT,
                identity=InstanceIdentity.mint(),
                out_dir=out,
                **({"faces": faces} if faces is not None else {}),
            )

        def looking(source: Path) -> Callable[[int], None]:
            return lambda _: wrap(
                source, context=CONTEXT, identity=InstanceIdentity.mint(), out_dir=out
            )

        def inspecting(source: Path) -> Callable[[int], None]:
            return lambda _: inspect_media(source)

        def dcmtk_upright(i: int) -> None:
            _img2dcm(upright, out / f"img2dcm-{i}.dcm")

        def dcmtk_rotated(i: int) -> None:
            turned = work / "turned.jpg"
            with rotated.open("rb") as source, turned.open("wb") as target:
                subprocess.run(
                    ["jpegtran", "-perfect", "-rotate", "90", "-copy", "none"],
                    stdin=source,
                    stdout=target,
                    check=True,
                )
            _img2dcm(turned, out / f"img2dcm-rot-{i}.dcm")

        rows = [
            ("upright 4000x3000", upright, ours(upright), dcmtk_upright, "img2dcm -vlp"),
            (
                "orientation 6, 4032x3024",
                rotated,
                ours(rotated),
                dcmtk_rotated,
                "jpegtran + img2dcm -vlp",
            ),
        ]
        print(f"{runs} runs each; median seconds per photo")
        print(
            "| photo | size | wrap (faces known) | wrap (looks for faces) | inspect_media "
            "| reference | reference tool | reference / wrap | reference / wrap looking |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, source, ours_step, theirs_step, tool in rows:
            mine = statistics.median(_time(runs, ours_step))
            mine_looking = statistics.median(_time(runs, looking(source)))
            inspect = statistics.median(_time(runs, inspecting(source)))
            theirs = statistics.median(_time(runs, theirs_step))
            size = f"{source.stat().st_size / 1e6:.1f} MB"
            print(
                f"| {name} | {size} | {mine:.3f} | {mine_looking:.3f} | {inspect:.3f} "
                f"| {theirs:.3f} | {tool} | {theirs / mine:.2f}x | {theirs / mine_looking:.2f}x |"
            )


if __name__ == "__main__":
    main()
