"""One photo through ``python -m encapsulate dicom`` in a fresh process, against ``img2dcm -vlp``.

Each run is a new interpreter, as a shell script calls the command line, so
start-up (the interpreter, the imports) counts. The photo is the upright
12 MP camera JPEG of bench/wrap_photo.py (4000x3000, quality 92); the
contexts are a wound photo (faces looked for: OpenCV's cascade is imported
and run) and an endoscopy still (no face detection: the specialty's policy
decides). ``--before COMMIT`` runs the same command from ``git archive`` of
that commit's ``encapsulate/`` too, in the same run, so before and after see
the same machine. The commands are interleaved round by round (a loaded,
shared machine shifts them alike); wall time and the child's CPU (user +
system) are medians over ``-n`` rounds after one warm-up round. The
interpreter alone (``python -c pass``) is timed as well.

    .venv/bin/python bench/cli_start.py [-n 15] [--before ff50def]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.media import make_jpeg

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CONTEXTS = {
    "wound": {"patient": {"id": "MRN-0042", "name": "DOE^JANE"}, "specialty": "wound"},
    "endoscopy": {"patient": {"id": "MRN-0042", "name": "DOE^JANE"}, "specialty": "endoscopy"},
}


def _run(command: list[str], *, cwd: Path) -> tuple[float, float]:
    """Wall seconds and the child's CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _archive(commit: str, into: Path) -> Path:
    """``encapsulate/`` of ``commit``, unpacked in ``into``."""
    tar = into / "before.tar"
    with tar.open("wb") as out:
        subprocess.run(["git", "archive", commit, "encapsulate"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(tar) as archive:
        archive.extractall(into / "before", filter="data")
    return into / "before"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--before", help="a commit whose encapsulate/ is timed too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        photo = make_jpeg(work / "upright.jpg", width=4000, height=3000, quality=92)
        trees = {"now": ROOT}
        if args.before:
            trees[f"before ({args.before})"] = _archive(args.before, work)
        commands: dict[str, tuple[list[str], Path]] = {
            "python -c pass": ([PYTHON, "-c", "pass"], ROOT),
            "img2dcm -vlp": (
                ["img2dcm", "-vlp", "-k", "ImageLaterality=U", str(photo), str(work / "i.dcm")],
                ROOT,
            ),
        }
        for specialty, context in CONTEXTS.items():
            context_path = work / f"{specialty}.json"
            context_path.write_text(json.dumps(context), encoding="utf-8")
            for label, tree in trees.items():
                out = work / f"out-{specialty}-{len(commands)}"
                command = [PYTHON, "-m", "encapsulate", "dicom", str(photo)]
                command += ["--context", str(context_path), "--out", str(out)]
                commands[f"CLI {specialty}, {label}"] = (command, tree)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for round_ in range(args.runs + 1):
            for name, (command, cwd) in commands.items():
                if command[1:3] == ["-m", "encapsulate"]:
                    # A fresh output folder each run: the CLI refuses to overwrite.
                    command[-1] = str(work / f"{abs(hash(name))}-{round_}")
                result = _run(command, cwd=cwd)
                if round_ > 0:
                    samples[name].append(result)
        reference = statistics.median(wall for wall, _ in samples["img2dcm -vlp"])
        load = os.getloadavg()[0]
        print(f"{args.runs} rounds, load average {load:.1f} at the end; medians")
        print("| command | wall (s) | CPU (s) | wall / img2dcm |")
        print("| --- | --- | --- | --- |")
        for name, runs in samples.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"| {name} | {wall:.3f} | {cpu:.3f} | {wall / reference:.2f}x |")


if __name__ == "__main__":
    main()
