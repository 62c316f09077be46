"""Wrap a large passthrough H.264 MP4 as DICOM: time against ``cp``, and peak memory.

Run from the repository root:  .venv/bin/python bench/wrap_video.py [--sizes 1 5]

Makes (once, cached in bench/out/, which git ignores) an H.264 High level 4.1
MP4 of each size in GiB: a 10 s noisy 720p30 clip encoded at a high bit rate,
looped with ``-c copy`` until the size is reached. Each wrap runs in a fresh
subprocess that reports its own wall time and peak RSS (getrusage); ``cp`` of
the same file to the same folder is the reference. Sizes over 4 GiB exercise
the fragmentable transfer syntax (several fragments). Output files are
deleted after each run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
GIB = 1024**3

_CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from encapsulate import InstanceIdentity, parse_context, wrap
context = parse_context({"patient": {"id": "MRN-0042"}, "captured_at": "2026-11-28T10:15:00+01:00"})
start = time.perf_counter()
[written] = wrap(Path(sys.argv[2]), context=context, identity=InstanceIdentity.mint(),
                 out_dir=Path(sys.argv[3]))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_rss_kib": peak,
                  "path": str(written.path), "syntax": written.transfer_syntax_uid}))
"""


def _ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments], check=True)


def source_video(gib: int) -> Path:
    """An H.264 High 4.1 MP4 of ``gib`` GiB (cached)."""
    return looped_video(gib * GIB, OUT / f"h264_{gib}gib.mp4")


def looped_video(size: int, target: Path) -> Path:
    """The noisy 720p30 clip looped with ``-c copy`` to ``size`` bytes (cached at ``target``)."""
    OUT.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return target
    clip = OUT / "clip_720p30.mp4"
    if not clip.exists():
        _ffmpeg(
            *(
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1280x720:rate=30:duration=10,noise=alls=40:allf=t",
            ),
            *("-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-level:v", "4.1"),
            *("-b:v", "40M", "-pix_fmt", "yuv420p", "-f", "mp4", str(clip)),
        )
    loops = size // clip.stat().st_size + 1
    _ffmpeg(
        *("-stream_loop", str(loops), "-i", str(clip), "-c", "copy", "-fs", str(size)),
        *("-movflags", "+faststart", "-f", "mp4", str(target)),
    )
    return target


def time_cp(source: Path, *, fsync: bool = False) -> float:
    """``cp``, or with ``fsync`` a copy flushed to disk as wrap's atomic write is (dd)."""
    copy = OUT / "copy.mp4"
    command = ["cp", str(source), str(copy)]
    if fsync:
        command = ["dd", f"if={source}", f"of={copy}", "bs=4M", "conv=fsync", "status=none"]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    copy.unlink()
    return seconds


def time_wrap(source: Path) -> dict[str, object]:
    folder = OUT / "dicom"
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT), str(source), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout)
    Path(str(result["path"])).unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1], help="GiB per source file")
    args = parser.parse_args()
    print(
        "| source | size | cp (s) | cp + fsync (s) | wrap (s) | wrap / cp "
        "| wrap / (cp + fsync) | wrap peak RSS | transfer syntax |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for gib in args.sizes:
        source = source_video(gib)
        free = shutil.disk_usage(OUT).free
        if free < 2.2 * source.stat().st_size:
            print(f"skipping {gib} GiB: {free / GIB:.1f} GiB free")
            continue
        time_cp(source)  # warm the page cache for both sides
        cp = time_cp(source)
        synced = time_cp(source, fsync=True)
        wrapped = time_wrap(source)
        seconds = float(wrapped["seconds"])  # type: ignore[arg-type]
        rss = int(wrapped["peak_rss_kib"]) / 1024  # type: ignore[call-overload]
        print(
            f"| {source.name} | {source.stat().st_size / GIB:.2f} GiB | {cp:.2f} | {synced:.2f} "
            f"| {seconds:.2f} | {seconds / cp:.2f}x | {seconds / synced:.2f}x | {rss:.0f} MB "
            f"| {wrapped['syntax']} |"
        )


if __name__ == "__main__":
    main()
