"""Where a tus PATCH's time goes: cProfile in the gunicorn workers during one upload.

Run from the repository root:  .venv/bin/python bench/tus_profile.py [MiB]

Starts the hub as bench/hub_stack.py does, with a gunicorn config whose
``pre_request``/``post_request`` hooks profile each PATCH (and only PATCHes)
in every worker, uploads a looped copy of wrap_video.py's clip of ``MiB``
(default 256) through the agent's client as video_path.py does, and prints
the PATCH times and each worker's top functions by own time. cProfile adds
its own overhead to Python-level code; C calls (hashing, recv, write, fsync,
PostgreSQL waits) are timed as they are.
"""

from __future__ import annotations

import argparse
import pstats
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_stack import machine_note, running_hub
from video_path import DEFAULT_CHUNK_BYTES, upload
from wrap_video import OUT, looped_video

CONFIG = """
import cProfile, os, time
_profile = cProfile.Profile()
_started = {{}}
def pre_request(worker, req):
    if req.method == "PATCH":
        _started["at"] = time.perf_counter()
        _profile.enable()
def post_request(worker, req, environ, resp):
    if req.method == "PATCH":
        _profile.disable()
        with open(os.path.join({folder!r}, f"times-{{os.getpid()}}.txt"), "a") as out:
            out.write(f"{{time.perf_counter() - _started['at']:.4f}}\\n")
        _profile.dump_stats(os.path.join({folder!r}, f"{{os.getpid()}}.prof"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mib", nargs="?", type=int, default=256, help="upload size in MiB")
    parser.add_argument("--top", type=int, default=15, help="functions shown per worker")
    args = parser.parse_args()
    source = looped_video(args.mib * 1024**2, OUT / f"h264_{args.mib}mib.mp4")
    print(f"{source.name}; {machine_note()}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "gunicorn_profile.py"
        config.write_text(CONFIG.format(folder=folder))
        with running_hub(extra_env={"GUNICORN_CMD_ARGS": f"-c {config}"}) as hub:
            sent = upload(hub, source, DEFAULT_CHUNK_BYTES)
        print(
            f"upload {sent['seconds']:.2f} s, {sent['chunks']} chunks, "
            f"median PATCH (client) {float(sent['median_patch']) * 1000:.1f} ms"
        )
        for times in sorted(Path(folder).glob("times-*.txt")):
            seconds = [float(line) for line in times.read_text().split()]
            print(
                f"\nworker {times.stem.removeprefix('times-')}: {len(seconds)} PATCHes, "
                f"median {statistics.median(seconds) * 1000:.1f} ms server-side"
            )
            stats = pstats.Stats(str(times.with_name(times.stem.removeprefix("times-") + ".prof")))
            stats.sort_stats("tottime").print_stats(args.top)
    print(f"at the end: {machine_note()}")


if __name__ == "__main__":
    main()
