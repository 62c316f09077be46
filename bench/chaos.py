"""The hub under faults, end to end: nothing lost, nothing duplicated, nothing stuck.

    .venv/bin/python bench/chaos.py              # 200 photos, the full run
    .venv/bin/python bench/chaos.py --photos 40 --outage 20   # a quick one

The stack: PostgreSQL on 127.0.0.1:5432 (a database of the run's own), a
redis-server of the run's own, Orthanc behind a TCP relay (the archive
outage), and the hub as `make run` runs it - gunicorn, two Celery workers and
beat, each restarted with a backoff when it dies (`hub.launch.supervise`).
Four clients upload the photos over HTTP (each with an Idempotency-Key, and
retrying a refused or cut-off upload as the capture app does). Meanwhile:
three worker SIGKILLs mid-task, a SIGKILL of the web server mid-upload, a
60 s archive outage, and a broker restart inside it. At the end every photo
must be archived, once, with one delivery; the recovery time after the last
fault is printed. The photos are bench/photos.py's (12 MP camera JPEGs), as
bench/throughput.py uses.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hub_stack import postgres_database  # noqa: E402
from bench.photos import photo_set  # noqa: E402
from bench.processes import descendants  # noqa: E402
from hub.launch import Child, supervise  # noqa: E402
from tests.peers.orthanc import OrthancPeer  # noqa: E402
from tests.peers.ports import free_port  # noqa: E402
from tests.peers.redis import RedisPeer  # noqa: E402
from tests.peers.tcp_proxy import TcpProxy  # noqa: E402

CONTEXT = (
    '{{"patient": {{"id": "CHAOS-{n:04d}", "birth_date": "1950-01-31"}}, "specialty": "wound"}}'
)


def kill_tree(child: Child) -> None:
    """SIGKILL a supervised child and everything below it; the supervisor restarts it."""
    if child.process is None:
        return
    for pid in descendants([child.process.pid]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def upload_all(
    url: str, token: str, photos: list[tuple[int, Path]], ids: dict[str, str], log: list
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    for number, photo in photos:
        key = f"chaos-{number:04d}"
        for attempt in range(60):
            try:
                with photo.open("rb") as data:
                    response = session.post(
                        f"{url}/api/v1/captures",
                        files={"file": (photo.name, data, "image/jpeg")},
                        data={"context": CONTEXT.format(n=number)},
                        headers={"Idempotency-Key": key},
                        timeout=120,
                    )
                if response.status_code in (200, 201):
                    ids[key] = response.json()["id"]
                    break
                log.append(f"{key}: answered {response.status_code}")
            except requests.RequestException as error:
                log.append(f"{key}: {type(error).__name__}")
            time.sleep(min(0.5 * 2**attempt, 5))
        else:
            log.append(f"{key}: given up")
    log.append(("finished", time.monotonic()))


def counts(database_url: str, ids: list[str]) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM captures_capture WHERE id = ANY(%s::uuid[]) "
            "GROUP BY status",
            (ids,),
        ).fetchall()
    return dict(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--outage", type=float, default=60.0, help="archive outage, seconds")
    parser.add_argument("--deadline", type=float, default=900.0, help="give up after, seconds")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hub-chaos-"))
    print(f"chaos: working in {work}", flush=True)
    (work / "photos").mkdir()
    photos = photo_set(work / "photos", args.photos)
    redis = RedisPeer(work / "redis")
    orthanc = OrthancPeer(work / "orthanc")
    stopping = threading.Event()
    # The peers are stopped however the run ends, a failed set-up included.
    with contextlib.ExitStack() as cleanup, postgres_database() as database_url:
        cleanup.callback(redis.stop)
        cleanup.callback(orthanc.stop)
        redis.start()
        orthanc.start()
        relay = TcpProxy(orthanc.http_port)
        relay.start()
        port = free_port()
        data_dir = work / "data"
        data_dir.mkdir(mode=0o700)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis.url,
            "HUB_QUEUE_PREFIX": f"chaos-{uuid.uuid4().hex[:6]}",
            "HUB_DATA_DIR": str(data_dir),
            "DJANGO_SECRET_KEY": "chaos-" + uuid.uuid4().hex,
            "HUB_STOWRS_URL": f"http://127.0.0.1:{relay.port}/dicom-web",
            "HUB_STOWRS_USERNAME": orthanc.username,
            "HUB_STOWRS_PASSWORD": orthanc.password,
            "HUB_STOWRS_TIMEOUT": "60",
            "HUB_DELIVERY_RETRY_BASE_SECONDS": "2",
            "HUB_DELIVERY_RETRY_MAX_SECONDS": "10",
            "HUB_DELIVERY_MAX_ATTEMPTS": "40",
            "HUB_STEP_LEASE_SECONDS": "30",
            "HUB_SWEEP_INTERVAL_SECONDS": "2",
            "HUB_RESUME_INTERVAL_SECONDS": "20",
        }
        python = sys.executable
        migrate = [python, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)
        made = subprocess.run(
            [python, "manage.py", "hubuser", "chaos", "--role", "capturer"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        token = made.stdout.strip().splitlines()[-1].strip()
        queues = f"{env['HUB_QUEUE_PREFIX']}.cpu,{env['HUB_QUEUE_PREFIX']}.io"
        celery = [python, "-m", "celery", "-A", "hub"]
        logs = work / "logs"
        logs.mkdir()
        children = {
            "web": Child(
                "web",
                [
                    python,
                    "-m",
                    "gunicorn",
                    "hub.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "300",
                    "--control-socket",
                    str(work / "gunicorn.ctl"),
                ],
                env=env,
                log=logs / "web.log",
            ),
            **{
                name: Child(
                    name,
                    [
                        *celery,
                        "worker",
                        "-Q",
                        queues,
                        "-c",
                        "2",
                        "--hostname",
                        f"{name}@%h",
                        "--loglevel",
                        "INFO",
                    ],
                    env=env,
                    log=logs / f"{name}.log",
                )
                for name in ("worker-1", "worker-2")
            },
            "beat": Child(
                "beat",
                [*celery, "beat", "--schedule", str(work / "beat"), "--loglevel", "INFO"],
                env=env,
                log=logs / "beat.log",
            ),
        }
        supervisor = threading.Thread(
            target=supervise, args=(list(children.values()), stopping), daemon=True
        )
        supervisor.start()
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/healthz", timeout=2).ok:
                        break
                time.sleep(0.5)
            started = time.monotonic()
            ids: dict[str, str] = {}
            client_log: list = []  # retries, and each client's finishing time
            numbered = list(enumerate(p.path for p in photos))
            clients = [
                threading.Thread(
                    target=upload_all,
                    args=(url, token, numbered[i :: args.clients], ids, client_log),
                )
                for i in range(args.clients)
            ]
            for client in clients:
                client.start()

            def at(seconds: float, what: str) -> None:
                time.sleep(max(0.0, started + seconds - time.monotonic()))
                print(f"chaos: t={time.monotonic() - started:5.1f} s  {what}", flush=True)

            at(8, "SIGKILL worker-1")
            kill_tree(children["worker-1"])
            at(14, "SIGKILL web, mid-upload")
            kill_tree(children["web"])
            at(20, "SIGKILL worker-2")
            kill_tree(children["worker-2"])
            at(26, f"archive down for {args.outage:.0f} s")
            relay.refusing = True
            at(26 + args.outage / 3, "broker restart")
            redis.restart(down_for=3.0)
            at(26 + args.outage / 2, "SIGKILL worker-1")
            kill_tree(children["worker-1"])
            at(26 + args.outage, "archive back")
            relay.refusing = False
            last_fault = time.monotonic()

            for client in clients:
                client.join(timeout=args.deadline)
            uploaded = max(e[1] for e in client_log if isinstance(e, tuple))
            client_log = [e for e in client_log if not isinstance(e, tuple)]
            capture_ids = list(ids.values())
            while time.monotonic() < started + args.deadline:
                now = counts(database_url, capture_ids)
                if now.get("archived", 0) == len(capture_ids) == args.photos:
                    break
                time.sleep(1)
            done = time.monotonic()
            final = counts(database_url, capture_ids)
            with psycopg.connect(database_url, autocommit=True) as connection:
                [(deliveries, delivered)] = connection.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'delivered') "
                    "FROM delivery_delivery"
                ).fetchall()
                [(rows,)] = connection.execute("SELECT count(*) FROM captures_capture").fetchall()
            in_archive = orthanc.count_instances()
            restarts = {name: child.restarts for name, child in children.items()}
        finally:
            stopping.set()
            supervisor.join(timeout=120)
            relay.stop()
            orthanc.stop()
            redis.stop()

    archived = final.get("archived", 0)
    print()
    print(f"photos sent            {args.photos} by {args.clients} clients")
    print(f"captures the hub made  {rows} (uploads answered: {len(ids)})")
    stuck = {status: n for status, n in final.items() if status != "archived"}
    print(f"archived               {archived}; not archived: {stuck}")
    print(f"deliveries             {deliveries} ({delivered} delivered)")
    print(f"instances in Orthanc   {in_archive}")
    print(f"restarts by make run   {restarts}")
    print(f"uploads finished       {uploaded - started:.1f} s after the start")
    print(f"all archived           {done - started:.1f} s after the start")
    print(
        f"recovery               {done - last_fault:.1f} s after the last fault (the archive back)"
    )
    print(f"client retries         {len(client_log)}")
    ok = archived == rows == deliveries == delivered == in_archive == args.photos
    print("RESULT", "ok: none lost, none duplicated, none stuck" if ok else "FAILED")
    # 200 camera photos are 700 MB, and the archive holds them again: keep only the logs.
    shutil.rmtree(work / "photos", ignore_errors=True)
    shutil.rmtree(orthanc.storage_dir, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"logs in {work / 'logs'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
