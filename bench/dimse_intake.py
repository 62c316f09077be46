"""C-STORE intake: the hub's listener against DCMTK's storescp, the same storescu sending.

    .venv/bin/python bench/dimse_intake.py --photos 20 --cines 3 --frames 64

Makes photo-like Secondary Capture objects (JPEG, about 20 kB) and
uncompressed multi-frame ones (`--frames` x 640x480 RGB: 59 MB at 64), each
with a SOP Instance UID of its own, and sends each set with one `storescu`
association to:

- the hub's listener (`manage.py dicom_listener`) on a PostgreSQL database and
  a Redis broker of its own (bench/hub_stack.py): each instance spooled to
  disk, hashed, fsynced, moved into the originals and recorded as a capture
  before its Success (no worker runs: the captures wait `received`);
- the reference, DCMTK's `storescp` writing the files to a folder (no fsync,
  no database).

Prints the wall time and the receiving process's CPU seconds per set, their
ratios hub / reference, and each receiver's peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from hub_stack import postgres_database, redis_broker  # noqa: E402
from processes import PeakRss, cpu_seconds, interrupt_on_sigterm, stop  # noqa: E402

from tests.integration.dimse_objects import write_multiframe, write_sc_photo  # noqa: E402
from tests.peers.ports import free_port  # noqa: E402

AET = "CAPTUREHUB"


def _listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"not listening on {port}; see {log}")


def _send(port: int, files: list[Path], receiver: subprocess.Popen[bytes]) -> tuple[float, float]:
    """Wall seconds of one storescu association sending `files`, and the receiver's CPU."""
    cpu = cpu_seconds([receiver.pid])
    start = time.perf_counter()
    done = subprocess.run(
        ["storescu", "-aet", "BENCH", "-aec", AET, "-xy", "127.0.0.1", str(port),
         *map(str, files)],
        capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"storescu failed:\n{done.stdout}{done.stderr}")
    return wall, cpu_seconds([receiver.pid]) - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--cines", type=int, default=3)
    parser.add_argument("--frames", type=int, default=64)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dimse-"))
    sets: dict[str, list[Path]] = {"photos": [], "cines": []}
    for i in range(args.photos):
        write_sc_photo(work / f"photo-{i}.dcm")
        sets["photos"].append(work / f"photo-{i}.dcm")
    for i in range(args.cines):
        write_multiframe(work / f"cine-{i}.dcm", frames=args.frames)
        sets["cines"].append(work / f"cine-{i}.dcm")
    sizes = {name: sum(f.stat().st_size for f in files) for name, files in sets.items()}
    results: dict[str, dict[str, tuple[float, float]]] = {}
    peaks: dict[str, int] = {}
    with (
        interrupt_on_sigterm(),
        postgres_database() as database,
        redis_broker() as (broker, prefix),
    ):
        data = work / "data"
        data.mkdir(mode=0o700)
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": broker,
            "HUB_QUEUE_PREFIX": prefix,
            "HUB_DATA_DIR": str(data),
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "HUB_AE_TITLE": AET,
            "HUB_DICOM_CALLERS": "BENCH@127.0.0.1",
            "HUB_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        hub_port, ref_port = free_port(), free_port()
        received = work / "storescp"
        received.mkdir()
        hub_log, ref_log = work / "listener.log", work / "storescp.log"
        with hub_log.open("wb") as hub_out, ref_log.open("wb") as ref_out:
            hub = subprocess.Popen(
                [sys.executable, "manage.py", "dicom_listener", "--port", str(hub_port),
                 "--bind", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=hub_out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            reference = subprocess.Popen(
                ["storescp", "-aet", AET, "+xa", "-od", str(received), str(ref_port)],
                stdout=ref_out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                _listening(hub_port, hub, hub_log)
                _listening(ref_port, reference, ref_log)
                with PeakRss({"hub": [hub.pid], "storescp": [reference.pid]}) as rss:
                    for name, files in sets.items():
                        results[name] = {
                            "hub": _send(hub_port, files, hub),
                            "storescp": _send(ref_port, files, reference),
                        }
                peaks = rss.peaks
                with psycopg.connect(database) as connection:
                    [(captures,)] = connection.execute(
                        "SELECT count(*) FROM captures_capture"
                    ).fetchall()
                stored = len(list(received.iterdir()))
                expected = sum(len(files) for files in sets.values())
                if (captures, stored) != (expected, expected):
                    raise RuntimeError(f"{captures} captures, {stored} files; sent {expected}")
            finally:
                stop(hub)
                stop(reference)
    print("| set | objects | MB | hub s | storescp s | hub / storescp | hub CPU s | "
          "storescp CPU s | CPU hub / storescp |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, files in sets.items():
        (hub_wall, hub_cpu), (ref_wall, ref_cpu) = results[name]["hub"], results[name]["storescp"]
        print(
            f"| {name} | {len(files)} | {sizes[name] / 1e6:.1f} | {hub_wall:.2f} | "
            f"{ref_wall:.2f} | {hub_wall / ref_wall:.2f}x | {hub_cpu:.2f} | {ref_cpu:.2f} | "
            f"{hub_cpu / max(ref_cpu, 0.01):.1f}x |"
        )
    print(
        f"peak resident memory: hub listener {peaks['hub'] / 1e6:.0f} MB, "
        f"storescp {peaks['storescp'] / 1e6:.0f} MB (largest object "
        f"{max(f.stat().st_size for f in sets['cines']) / 1e6:.0f} MB)"
        if sets["cines"]
        else ""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
