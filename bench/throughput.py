"""Photos end to end: the hub against the bare tools and Orthanc's own ingest, in one run.

Run from the repository root:  .venv/bin/python bench/throughput.py [--quick]

One Orthanc, one PostgreSQL database, one Redis database, the same generated
photos (12 MP phone-like JPEGs of about 3.6 MB, every other one with EXIF
orientation 6; bench/photos.py). In order:

1. bare tools: ``jpegtran -perfect -copy none -rotate 90`` for rotated photos,
   ``img2dcm -vlp -k ImageLaterality=U``, ``curl`` STOW-RS into the Orthanc,
   in ``--lanes`` parallel lanes (2: one per core);
2. Orthanc's own ingest: the same photos wrapped by img2dcm beforehand
   (untimed), sent by STOW-RS over keep-alive connections from
   ``--ingest-lanes`` threads;
3. the hub (bench/hub_stack.py: gunicorn and the Celery workers and beat as
   `make run` starts them, on PostgreSQL and Redis), ``--burst`` photos POSTed
   to /api/v1/captures from ``--clients`` threads at once;
4. the hub at a steady ``--steady-rate`` photos/s for ``--steady-seconds``.

Rates are photos per wall-clock second until the last one is in the archive.
CPU seconds per capture come from /proc (user + system of the processes, their
descendants and reaped children: jpegtran inside the worker counts) over the
phase. POST-to-archived is the delivery's ``delivered_at`` (from
``GET /api/v1/captures/{id}``) minus the moment the client began the POST;
while a phase runs, the script learns how many captures are done from the
hub's own database (a count query, so the polling costs the hub no CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_stack import Hub, machine_note, running_hub, source_tree
from photos import Photo, photo_set
from processes import interrupt_on_sigterm
from reference import (
    REQUEST_TIMEOUT,
    Phase,
    bare_tools,
    in_lanes,
    orthanc_ingest,
    percentile,
)
from sampling import print_summary, py_spy_binary, recording

CONTEXT = {
    "patient": {
        "id": "MRN-0042",
        "issuer": "HOSP",
        "name": "DOE^JANE",
        "birth_date": "1950-01-31",
        "sex": "F",
    },
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
    "operator": "NURSE^ANN",
    "captured_at": "2026-11-28T10:15:00+01:00",
    "description": "Pressure ulcer",
}
TERMINAL = ("archived", "failed", "rejected")
# Every wait is bounded: past this a phase is reported as unfinished.
DRAIN_TIMEOUT = 900.0
# PostgreSQL publishes a backend's statistics within about a second.
STATS_DELAY = 2.0
# The worker's log line for each message it takes (Celery's INFO "received").
TASK_RECEIVED = re.compile(rb"Task ([\w.]+)\[[^\]]+\] received")
# Beat's periodic work, not a capture's.
PERIODIC = ("resume_stalled_captures", "remove_orphan_originals")


def tasks_received(log: Path, since: int) -> dict[str, int]:
    """Messages the worker took after byte `since` of its log, by task (periodic ones left out)."""
    with log.open("rb") as file:
        file.seek(since)
        text = file.read()
    counts: dict[str, int] = {}
    for name in TASK_RECEIVED.findall(text):
        short = name.decode().rsplit(".", 1)[-1]
        if short not in PERIODIC:
            counts[short] = counts.get(short, 0) + 1
    return counts


class Poster:
    """POSTs photos to the hub and keeps when each POST began."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.began: dict[str, float] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    def post(self, photo: Photo) -> None:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.headers.update(self.hub.headers)
        began = time.time()
        with photo.path.open("rb") as file:
            response = self._local.session.post(
                f"{self.hub.url}/api/v1/captures",
                files={"file": (photo.path.name, file, "image/jpeg")},
                data={"context": json.dumps(CONTEXT)},
                timeout=REQUEST_TIMEOUT,
            )
        if response.status_code != 201:
            raise RuntimeError(f"POST answered {response.status_code}: {response.text[:500]}")
        with self._lock:
            self.began[response.json()["id"]] = began


def wait_terminal(hub: Hub, ids: list[str], timeout: float = DRAIN_TIMEOUT) -> bool:
    """True once every capture is archived, failed or rejected; False after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hub.check_alive()
        [(count,)] = hub.query(
            "SELECT count(*) FROM captures_capture WHERE id::text = ANY(%s) AND status = ANY(%s)",
            ids,
            list(TERMINAL),
        )
        if count >= len(ids):
            return True
        time.sleep(0.25)
    return False


def outcomes(hub: Hub, began: dict[str, float]) -> tuple[list[float], dict[str, int], float]:
    """Latencies of the archived captures, a count per status, and the last archive time."""
    session = requests.Session()
    session.headers.update(hub.headers)
    latencies, statuses, last = [], {}, 0.0
    for capture_id, start in began.items():
        body = session.get(f"{hub.url}/api/v1/captures/{capture_id}", timeout=30).json()
        statuses[body["status"]] = statuses.get(body["status"], 0) + 1
        delivered = [d["delivered_at"] for d in body["deliveries"] if d["delivered_at"]]
        if body["status"] == "archived" and delivered:
            at = max(datetime.fromisoformat(value).timestamp() for value in delivered)
            latencies.append(at - start)
            last = max(last, at)
    return latencies, statuses, last


def hub_burst(
    hub: Hub, photos: list[Photo], clients: int, profile: contextlib.AbstractContextManager
) -> tuple[Phase, dict]:
    poster = Poster(hub)
    sessions_before, transactions_before = hub.database_counters()
    queries_before = hub.queries
    worker_log = hub.logs / "celery.log"
    log_before = worker_log.stat().st_size
    with profile:
        cpu_before, orthanc_before = hub.hub_cpu(), hub.orthanc_cpu()
        web_before = hub.web_cpu()
        start = time.time()
        in_lanes(clients, photos, poster.post)
        posted = time.time() - start
        finished = wait_terminal(hub, list(poster.began))
        cpu, orthanc_cpu = hub.hub_cpu() - cpu_before, hub.orthanc_cpu() - orthanc_before
        web_cpu = hub.web_cpu() - web_before
    time.sleep(STATS_DELAY)
    # Our own count queries are one transaction each, on one session opened before.
    ours = hub.queries - queries_before
    sessions_after, transactions_after = hub.database_counters()
    latencies, statuses, last = outcomes(hub, poster.began)
    tasks = tasks_received(worker_log, log_before)
    archived_at = sorted(start + latency for latency in latencies)
    order = {
        "posted_s": posted,
        "first_archived_s": archived_at[0] - start if archived_at else float("nan"),
        "median_archived_s": archived_at[len(archived_at) // 2 - 1] - start
        if archived_at
        else float("nan"),
        "statuses": statuses,
        "finished": finished,
        "web_cpu": web_cpu / len(photos),
        "worker_cpu": (cpu - web_cpu) / len(photos),
        "sessions": (sessions_after - sessions_before) / len(photos),
        "transactions": (transactions_after - transactions_before - ours) / len(photos),
        "tasks": sum(tasks.values()) / len(photos),
        "tasks_by_name": tasks,
    }
    phase = Phase(
        name=f"hub burst, {clients} clients",
        photos=len(photos),
        seconds=(last - start) if last else time.time() - start,
        cpu=cpu,
        orthanc_cpu=orthanc_cpu,
        latencies=latencies,
        done=statuses.get("archived", 0),
        note=f"all POSTed in {posted:.1f} s" + ("" if finished else "; UNFINISHED"),
    )
    return phase, order


def hub_steady(hub: Hub, photos: list[Photo], rate: float) -> tuple[Phase, dict]:
    poster = Poster(hub)
    cpu_before, orthanc_before = hub.hub_cpu(), hub.orthanc_cpu()
    start = time.time()
    with ThreadPoolExecutor(4) as pool:
        futures = []
        for number, photo in enumerate(photos):
            # On schedule, whatever the earlier POSTs are doing.
            time.sleep(max(0.0, start + number / rate - time.time()))
            futures.append(pool.submit(poster.post, photo))
        for future in futures:
            future.result()
    finished = wait_terminal(hub, list(poster.began))
    cpu, orthanc_cpu = hub.hub_cpu() - cpu_before, hub.orthanc_cpu() - orthanc_before
    latencies, statuses, last = outcomes(hub, poster.began)
    phase = Phase(
        name=f"hub steady {rate:g}/s",
        photos=len(photos),
        seconds=(last - start) if last else time.time() - start,
        cpu=cpu,
        orthanc_cpu=orthanc_cpu,
        latencies=latencies,
        done=statuses.get("archived", 0),
        note="offered load, not capacity" + ("" if finished else "; UNFINISHED"),
    )
    return phase, {"statuses": statuses, "finished": finished}


# The report


def _f(value: float, digits: int = 2) -> str:
    return "—" if value != value else f"{value:.{digits}f}"  # NaN as a dash


def table(phases: list[Phase]) -> str:
    lines = [
        "| pipeline | photos done | wall (s) | rate (photos/s) | CPU-s per capture "
        "| Orthanc CPU-s per capture | POST-to-archived p50 (s) | p95 (s) | how |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for phase in phases:
        done = phase.done or 1
        lines.append(
            f"| {phase.name} | {phase.done}/{phase.photos} | {_f(phase.seconds, 1)} "
            f"| {_f(phase.rate)} | {_f(phase.cpu / done, 3) if phase.cpu else '—'} "
            f"| {_f(phase.orthanc_cpu / done, 3)} "
            f"| {_f(percentile(phase.latencies, 0.5)) if phase.latencies else '—'} "
            f"| {_f(percentile(phase.latencies, 0.95)) if phase.latencies else '—'} "
            f"| {phase.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=200, help="photos in the burst")
    parser.add_argument("--clients", type=int, default=4, help="client threads of the burst")
    parser.add_argument("--steady-seconds", type=float, default=120.0)
    parser.add_argument("--steady-rate", type=float, default=1.0, help="photos per second")
    parser.add_argument("--lanes", type=int, default=2, help="parallel lanes of the bare tools")
    parser.add_argument("--ingest-lanes", type=int, default=4)
    parser.add_argument(
        "--tree", type=Path, help="source tree the hub runs from (default: this one)"
    )
    parser.add_argument(
        "--commit", help="run the hub from this commit, exported by git archive (not --tree)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the web and worker during the burst into this folder (a run of its own)",
    )
    parser.add_argument("--py-spy", help="the py-spy binary (default: PY_SPY, then PATH)")
    parser.add_argument(
        "--profile-idle", action="store_true", help="profile wall time, waits included (not CPU)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20 photos, 20 s steady (unless given): a check that it all works",
    )
    args = parser.parse_args()
    if args.quick:  # unless given
        args.burst = 20 if args.burst == parser.get_default("burst") else args.burst
        if args.steady_seconds == parser.get_default("steady_seconds"):
            args.steady_seconds = 20.0
    steady_count = round(args.steady_seconds * args.steady_rate)
    with (
        interrupt_on_sigterm(),
        tempfile.TemporaryDirectory(prefix="bench-photos-") as folder,
        source_tree(args.tree, args.commit) as (tree, tree_name),
    ):
        work = Path(folder)
        (work / "photos").mkdir()
        photos = photo_set(work / "photos", args.burst + steady_count)
        burst, steady = photos[: args.burst], photos[args.burst :]
        size = sum(photo.path.stat().st_size for photo in burst) / len(burst) / 1e6
        print(f"{len(photos)} photos of {size:.2f} MB on average; {machine_note()}", flush=True)
        print(f"the hub runs from {tree_name}", flush=True)
        with running_hub(tree=tree, keep=args.keep) as hub:
            phases = [bare_tools(hub, burst, args.lanes, work)]
            print(table(phases[-1:]), flush=True)
            phases.append(orthanc_ingest(hub, burst, args.ingest_lanes, work))
            print(table(phases[-1:]), flush=True)
            profile: contextlib.AbstractContextManager = contextlib.nullcontext()
            if args.profile:
                workers = {n: w.pid for n, w in hub.workers.items() if n != "beat"}
                pids = {**workers, "web": hub.web.pid}
                profile = recording(
                    py_spy_binary(args.py_spy), pids, args.profile, idle=args.profile_idle
                )
            burst_phase, order = hub_burst(hub, burst, args.clients, profile)
            if args.profile:
                tasks = "hub/pipeline/tasks.py"
                print_summary(
                    {
                        **{n: (args.profile / f"{n}.collapsed.txt", tasks) for n in workers},
                        "web": (args.profile / "web.collapsed.txt", "capture_api/"),
                    }
                )
            phases.append(burst_phase)
            print(table(phases[-1:]), flush=True)
            if steady:
                steady_phase, steady_order = hub_steady(hub, steady, args.steady_rate)
                phases.append(steady_phase)
            load = machine_note()
        print()
        print(table(phases))
        bare, ingest = phases[0], phases[1]
        print()
        print("| ratio | value |")
        print("| --- | --- |")
        print(f"| hub burst rate / bare tools rate | {burst_phase.rate / bare.rate:.3f} |")
        print(f"| hub burst rate / Orthanc ingest rate | {burst_phase.rate / ingest.rate:.3f} |")
        print(
            f"| hub CPU-s per capture / bare tools CPU-s per capture "
            f"| {(burst_phase.cpu / max(burst_phase.done, 1)) / (bare.cpu / bare.done):.2f} |"
        )
        print(
            f"| burst: first archived after (s) | {_f(order['first_archived_s'], 1)} |\n"
            f"| burst: median capture archived after (s) | {_f(order['median_archived_s'], 1)} |\n"
            f"| burst: last archived after (s) | {_f(burst_phase.seconds, 1)} |\n"
            f"| burst: CPU-s per capture, gunicorn / Celery (jpegtran included) "
            f"| {order['web_cpu']:.3f} / {order['worker_cpu']:.3f} |\n"
            f"| burst: PostgreSQL sessions per capture | {order['sessions']:.1f} |\n"
            f"| burst: PostgreSQL transactions per capture | {order['transactions']:.1f} |\n"
            f"| burst: Celery tasks per capture (beat's periodic ones left out) "
            f"| {order['tasks']:.1f} |\n"
            f"| burst: median latency / p95 latency / burst duration "
            f"| {_f(percentile(burst_phase.latencies, 0.5) / burst_phase.seconds)} / "
            f"{_f(percentile(burst_phase.latencies, 0.95) / burst_phase.seconds)} |\n"
            f"| burst: median latency / burst duration (goal <= 0.33) "
            f"| {_f(percentile(burst_phase.latencies, 0.5) / burst_phase.seconds)} |"
        )
        print(f"\nburst statuses: {order['statuses']}")
        print(f"burst tasks: {order['tasks_by_name']}")
        if steady:
            print(f"steady statuses: {steady_order['statuses']}")
        print(f"at the end: {load}")


if __name__ == "__main__":
    main()
