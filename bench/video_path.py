"""A large video through the hub: tus upload against ``cp`` + ``sync``, delivery against ``curl``.

Run from the repository root:  .venv/bin/python bench/video_path.py [--quick]

The source is wrap_video.py's passthrough H.264 High 4.1 MP4 (1 GiB, cached in
bench/out/; ``--quick`` makes a 64 MiB one). The hub runs as bench/hub_stack.py
starts it (gunicorn, the Celery workers and beat, PostgreSQL, Redis, a real
Orthanc). Measured, in one run:

- ``cp`` of the file into the hub's data folder then ``sync`` of the copy
  (the second of two runs: the page cache is warm, as for the upload);
- the tus upload through the agent's client (tuspy, ``--chunk-mib`` chunks,
  by default the agent's, a checksum per chunk), from creation to the last
  PATCH answered, and how long the last PATCH took against the median one;
- from the last PATCH to archived, split by the hub's own timestamps (capture
  recorded, DICOM written, delivery begun, delivered);
- the references: ``python -m encapsulate dicom`` of the same source (a fresh
  process, output fsynced), and ``curl -T`` STOW-RS of the hub's own wrapped
  file with a Content-Length (after deleting the hub's copy from Orthanc),
  and unless ``--no-chunked`` the same body sent chunked;
- peak RSS of the largest gunicorn, Celery and Orthanc process, and the CPU
  seconds of the hub and of Orthanc over the delivery.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_stack import Hub, machine_note, running_hub, source_tree
from processes import PeakRss, interrupt_on_sigterm
from wrap_video import GIB, OUT, looped_video, source_video

# On the path through hub_stack.
from mobile_client.agent.hub_client import DEFAULT_CHUNK_BYTES, HubClient

CONTEXT = {
    "patient": {
        "id": "MRN-0042",
        "issuer": "HOSP",
        "name": "DOE^JANE",
        "birth_date": "1950-01-31",
        "sex": "F",
    },
    "specialty": "wound",
    "captured_at": "2026-11-28T10:15:00+01:00",
    "description": "Dressing change",
}
BOUNDARY = "bench-video-boundary"
DRAIN_TIMEOUT = 1800.0
POLL = 0.25


def time_cp_sync(source: Path, folder: Path) -> float:
    copy = folder / "copy.mp4"
    seconds = 0.0
    for _ in range(2):  # the first warms the page cache, as the upload finds it
        start = time.perf_counter()
        subprocess.run(["cp", str(source), str(copy)], check=True)
        subprocess.run(["sync", str(copy)], check=True)
        seconds = time.perf_counter() - start
        copy.unlink()
    return seconds


def upload(hub: Hub, source: Path, chunk_bytes: int) -> dict[str, float | str]:
    client = HubClient(hub.url, hub.token, chunk_bytes=chunk_bytes)
    chunk_ends: list[float] = []
    start = time.perf_counter()
    url = client.create_upload(
        source, metadata={"filename": source.name, "context": json.dumps(CONTEXT)}
    )
    client.send(
        source,
        url,
        should_stop=lambda: False,
        progress=lambda sent, size: chunk_ends.append(time.perf_counter()),
    )
    ended = time.time()
    seconds = time.perf_counter() - start
    # progress() is called once before the first chunk, then after each.
    chunks = [b - a for a, b in itertools.pairwise(chunk_ends)]
    return {
        "url": url,
        "seconds": seconds,
        "ended": ended,
        "last_patch": chunks[-1] if chunks else float("nan"),
        "median_patch": statistics.median(chunks) if chunks else float("nan"),
        "chunks": len(chunks),
    }


def wait_archived(hub: Hub, upload_url: str) -> dict:
    client = HubClient(hub.url, hub.token)
    deadline = time.monotonic() + DRAIN_TIMEOUT
    capture = None
    while time.monotonic() < deadline:
        hub.check_alive()
        capture = capture or client.capture_for_upload(upload_url)
        if capture:
            capture = client.capture(capture["id"])
            if capture["status"] in ("archived", "failed", "rejected"):
                return capture
        time.sleep(POLL)
    raise RuntimeError(f"not archived within {DRAIN_TIMEOUT:.0f} s: {capture}")


def timeline(hub: Hub, capture_id: str) -> dict[str, float]:
    """The hub's own timestamps (seconds since the epoch), from its database."""
    [(recorded, written, begun, delivered, path)] = hub.query(
        "SELECT c.created_at, i.created_at, d.created_at, d.delivered_at, i.path "
        "FROM captures_capture c JOIN captures_dicominstance i ON i.capture_id = c.id "
        "JOIN delivery_delivery d ON d.capture_id = c.id WHERE c.id::text = %s",
        capture_id,
    )
    return {
        "recorded": recorded.timestamp(),
        "written": written.timestamp(),
        "begun": begun.timestamp(),
        "delivered": delivered.timestamp(),
        "path": path,
    }


def cli_wrap(source: Path, folder: Path, tree: Path) -> float:
    context = folder / "context.json"
    context.write_text(json.dumps(CONTEXT))
    out = folder / "cli"
    out.mkdir()
    start = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "encapsulate", "dicom", str(source)),
            *("--context", str(context), "--out", str(out)),
        ],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    for line in done.stdout.split():
        Path(line).unlink(missing_ok=True)
    return seconds


def curl_stow(hub: Hub, body: Path, *, chunked: bool) -> float:
    orthanc = hub.orthanc
    command = [
        *("curl", "-sS", "--fail-with-body", "-u", f"{orthanc.username}:{orthanc.password}"),
        *("-X", "POST", "-T", str(body), "-H", "Expect:"),
        *("-H", f'Content-Type: multipart/related; type="application/dicom"; boundary={BOUNDARY}'),
    ]
    if chunked:
        command += ["-H", "Transfer-Encoding: chunked"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, f"{orthanc.dicomweb_url}/studies"], check=True, capture_output=True
    )
    seconds = time.perf_counter() - start
    failed = json.loads(done.stdout).get("00081198") or {}
    if failed.get("Value"):
        raise RuntimeError(f"Orthanc refused the body: {done.stdout[:500]!r}")
    return seconds


def forget_in_orthanc(hub: Hub, sop_instance_uid: str) -> None:
    orthanc_id = hub.orthanc.find_instance(sop_instance_uid)
    if orthanc_id:
        requests.delete(
            f"{hub.orthanc.url}/instances/{orthanc_id}",
            auth=(hub.orthanc.username, hub.orthanc.password),
            timeout=300,
        ).raise_for_status()


def stow_body(dicom: Path, body: Path) -> Path:
    with body.open("wb") as out:
        out.write(f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode())
        with dicom.open("rb") as source:
            while block := source.read(8 * 1024**2):
                out.write(block)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 64 MiB video: a quick check")
    parser.add_argument("--no-chunked", action="store_true", help="skip the chunked STOW")
    parser.add_argument(
        "--chunk-mib", type=int, default=DEFAULT_CHUNK_BYTES // 1024**2, help="MiB per tus PATCH"
    )
    parser.add_argument(
        "--tree", type=Path, help="source tree the hub runs from (default: this one)"
    )
    parser.add_argument(
        "--commit", help="run the hub from this commit, exported by git archive (not --tree)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    source = looped_video(64 * 1024**2, OUT / "h264_64mib.mp4") if args.quick else source_video(1)
    size = source.stat().st_size
    print(f"{source.name}: {size / GIB:.3f} GiB; {machine_note()}", flush=True)
    rows: list[tuple[str, str, str, str]] = []
    with (
        interrupt_on_sigterm(),
        source_tree(args.tree, args.commit) as (tree, tree_name),
        running_hub(tree=tree, keep=args.keep) as hub,
    ):
        print(f"the hub runs from {tree_name}", flush=True)
        cp_sync = time_cp_sync(source, hub.data_dir)
        roots = {
            "gunicorn": [hub.web.pid],
            "celery": hub.worker_pids(),
            "Orthanc": [hub.orthanc_pid()],
        }
        with PeakRss(roots) as peaks:
            cpu_upload = hub.hub_cpu()
            sent = upload(hub, source, args.chunk_mib * 1024**2)
            cpu_upload = hub.hub_cpu() - cpu_upload
            cpu_hub, cpu_orthanc = hub.hub_cpu(), hub.orthanc_cpu()
            capture = wait_archived(hub, str(sent["url"]))
            cpu_hub, cpu_orthanc = hub.hub_cpu() - cpu_hub, hub.orthanc_cpu() - cpu_orthanc
        if capture["status"] != "archived":
            raise RuntimeError(f"the capture ended {capture['status']}: {capture['reason']}")
        steps = timeline(hub, capture["id"])
        delivered = datetime.fromisoformat(capture["deliveries"][0]["delivered_at"]).timestamp()
        after_patch = delivered - float(sent["ended"])
        deliver = steps["delivered"] - steps["begun"]
        with tempfile.TemporaryDirectory(dir=hub.data_dir) as folder:
            work = Path(folder)
            wrap = cli_wrap(source, work, tree)
            wrapped = hub.data_dir / steps["path"]
            body = stow_body(wrapped, work / "body.bin")
            forget_in_orthanc(hub, capture["dicom"]["sop_instance_uid"])
            with_length = curl_stow(hub, body, chunked=False)
            chunked = float("nan")
            if not args.no_chunked:
                forget_in_orthanc(hub, capture["dicom"]["sop_instance_uid"])
                chunked = curl_stow(hub, body, chunked=True)
        load = machine_note()
    upload_s = float(sent["seconds"])
    reference = wrap + with_length
    rows = [
        (
            f"tus upload, {args.chunk_mib} MiB chunks",
            f"{upload_s:.2f}",
            f"cp + sync: {cp_sync:.2f}",
            f"{upload_s / cp_sync:.2f}x",
        ),
        (
            "the last PATCH / the median PATCH",
            f"{float(sent['last_patch']):.2f}",
            f"{float(sent['median_patch']):.3f}",
            f"{float(sent['last_patch']) / float(sent['median_patch']):.1f}x",
        ),
        (
            "last PATCH answered to archived",
            f"{after_patch:.2f}",
            f"CLI wrap {wrap:.2f} + curl -T STOW {with_length:.2f} = {reference:.2f}",
            f"{after_patch / reference:.2f}x",
        ),
        (
            "  of which: PATCH answered to capture recorded (< 0: within it)",
            f"{steps['recorded'] - float(sent['ended']):.2f}",
            "—",
            "—",
        ),
        (
            "  of which: recorded to DICOM written",
            f"{steps['written'] - steps['recorded']:.2f}",
            f"CLI wrap {wrap:.2f}",
            f"{(steps['written'] - steps['recorded']) / wrap:.2f}x",
        ),
        (
            "  of which: written to delivery begun",
            f"{steps['begun'] - steps['written']:.2f}",
            "—",
            "—",
        ),
        (
            "  of which: deliver (STOW-RS by the hub)",
            f"{deliver:.2f}",
            f"curl -T with Content-Length {with_length:.2f}",
            f"{deliver / with_length:.2f}x",
        ),
        (
            "curl -T of the same body, chunked",
            "—" if chunked != chunked else f"{chunked:.2f}",
            f"with Content-Length {with_length:.2f}",
            "—" if chunked != chunked else f"{chunked / with_length:.2f}x",
        ),
        (
            "hub CPU-s of the upload",
            f"{cpu_upload:.1f}",
            "—",
            "—",
        ),
        (
            "CPU-s from upload end to archived: hub / Orthanc",
            f"{cpu_hub:.1f} / {cpu_orthanc:.1f}",
            "—",
            "—",
        ),
        (
            "peak RSS: gunicorn / celery / Orthanc (MB)",
            " / ".join(f"{peaks.peaks[name] / 1e6:.0f}" for name in roots),
            "—",
            "—",
        ),
    ]
    print(f"\n{source.name}, {size / GIB:.3f} GiB; wrapped {wrapped.name}")
    print("| what | the hub (s) | reference, same run (s) | ratio |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nat the end: {load}")


if __name__ == "__main__":
    main()
