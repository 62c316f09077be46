"""A 2 GiB video pushed by STOW-RS (the IHE WIC form): the web process's peak memory and
its time against ``cp`` + ``sync`` of the same file.

Run from the repository root:  .venv/bin/python bench/stow_intake.py [--gib 2]

Uses the cached H.264 MP4 of bench/wrap_video.py (bench/out/, git-ignored;
made on the first run). Starts the hub's web process as ``make run`` does on a
laptop (gunicorn, one worker, SQLite, the filesystem broker, HUB_DATA_DIR in a
temporary folder on the same disk as bench/out) and no Celery worker, so the
capture stays `received` and only the intake is measured: the request is one
DICOM JSON metadata part and the video as a `video/mp4` bulk part, sent from a
raw socket with sendfile(2) (the client costs next to nothing). The answer
comes once the original is durably stored (fsync), so the reference is a copy
of the same file to the same folder followed by ``sync`` of it. Peak RSS is
sampled from /proc twice a second for the gunicorn worker. Everything started
is stopped by pid, and the folder removed, on the way out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from hub_stack import HOST, _answers, _manage, _wait, machine_note  # noqa: E402
from processes import PeakRss, descendants, rss_bytes, stop  # noqa: E402
from wrap_video import OUT, source_video  # noqa: E402

from tests.peers.ports import free_port  # noqa: E402

BOUNDARY = "bench-wic-boundary"
VIDEO_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1.1"


def metadata() -> bytes:
    return json.dumps(
        [
            {
                "00080016": {"vr": "UI", "Value": [VIDEO_ENDOSCOPIC]},
                "00080018": {"vr": "UI", "Value": [f"2.25.{uuid.uuid4().int}"]},
                "00100020": {"vr": "LO", "Value": ["MRN-BENCH"]},
                "00100010": {"vr": "PN", "Value": [{"Alphabetic": "BENCH^VIDEO"}]},
                "7FE00010": {"vr": "OB", "BulkDataURI": "bulk/video"},
            }
        ]
    ).encode()


def stow(url: str, token: str, video: Path) -> dict[str, object]:
    """POST the WIC request from a raw socket; the times and the answer."""
    head = (
        f"--{BOUNDARY}\r\nContent-Type: application/dicom+json\r\n\r\n".encode()
        + metadata()
        + f"\r\n--{BOUNDARY}\r\nContent-Type: video/mp4\r\n"
        f"Content-Location: bulk/video\r\n\r\n".encode()
    )
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + video.stat().st_size + len(tail)
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"POST /dicom-web/studies HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Token {token}\r\n"
        f'Content-Type: multipart/related; type="application/dicom+json"; boundary={BOUNDARY}\r\n'
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()
    start = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=900) as client:
        client.sendall(request + head)
        with video.open("rb") as file:
            client.sendfile(file)
        client.sendall(tail)
        sent = time.perf_counter() - start
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    seconds = time.perf_counter() - start
    status = int(answer.split(b" ", 2)[1])
    return {
        "status": status,
        "seconds": seconds,
        "sent_seconds": sent,
        "body": answer.partition(b"\r\n\r\n")[2].decode(errors="replace")[:400],
    }


def time_cp_sync(source: Path, folder: Path) -> tuple[float, float]:
    """(cp, cp + sync of the copy): the copy lands on the disk HUB_DATA_DIR is on."""
    copy = folder / "copy.mp4"
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(copy)], check=True)
    copied = time.perf_counter() - start
    subprocess.run(["sync", str(copy)], check=True)
    synced = time.perf_counter() - start
    copy.unlink()
    return copied, synced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=int, default=2, help="size of the video in GiB")
    arguments = parser.parse_args()
    video = source_video(arguments.gib)
    print(f"video {video} ({video.stat().st_size / 1024**3:.2f} GiB); {machine_note()}")
    work = Path(tempfile.mkdtemp(prefix="hub-stow-bench-", dir=OUT))
    web: subprocess.Popen[bytes] | None = None
    try:
        data_dir = work / "data"
        data_dir.mkdir(mode=0o700)
        port = free_port()
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(data_dir),
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "HUB_HOST": HOST,
            "HUB_PORT": str(port),
        }
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        _manage(ROOT, env, "migrate", "--noinput")
        token = _manage(ROOT, env, "hubuser", "bench", "--role", "capturer").stdout.split()[-1]
        log = work / "gunicorn.log"
        with log.open("ab") as out:
            web = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "hub.wsgi", "--bind", f"{HOST}:{port}"),
                    *("--workers", "1", "--timeout", "900", "--no-control-socket"),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://{HOST}:{port}"
        _wait(lambda: _answers(f"{url}/healthz"), "gunicorn", web, log)
        idle = max(rss_bytes(pid) for pid in descendants([web.pid]))
        with PeakRss({"web": [web.pid]}) as peaks:
            result = stow(url, token, video)
        cp, cp_sync = time_cp_sync(video, data_dir)
        stored = [p for p in (data_dir / "originals").rglob("*") if p.is_file()]
        print(json.dumps(result, indent=2))
        print(
            "\n| video | stow (s) | client done sending (s) | cp (s) | cp + sync (s) "
            "| stow / (cp + sync) | web RSS before | web peak RSS | stored |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        print(
            f"| {video.stat().st_size / 1024**3:.2f} GiB | {result['seconds']:.2f} "
            f"| {result['sent_seconds']:.2f} | {cp:.2f} | {cp_sync:.2f} "
            f"| {result['seconds'] / cp_sync:.2f}x | {idle / 1e6:.0f} MB "
            f"| {peaks.peaks['web'] / 1e6:.0f} MB "
            f"| {sum(p.stat().st_size for p in stored) / 1024**3:.2f} GiB |"
        )
        if result["status"] != 200:
            raise SystemExit(f"STOW-RS answered {result['status']}; see {log}")
    finally:
        stop(web)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
