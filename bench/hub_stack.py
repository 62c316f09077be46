"""The hub as `make run` starts it, on PostgreSQL and Redis, with a real Orthanc: for benchmarks.

`running_hub()` makes a database of its own on 127.0.0.1:5432 (trust auth),
takes an empty Redis database number on 127.0.0.1:6379 and a queue prefix of
its own, starts Orthanc (tests/peers/orthanc.py), migrates, makes a capturer
with `manage.py hubuser`, and runs gunicorn and the Celery processes that
the tree's own hub/launch.py starts (one worker with both queues, or one per
queue, and beat) on free loopback ports, with
HUB_DATA_DIR in a temporary folder. On leaving the block, by error or Ctrl-C
included, it stops every process it started (by pid), drops the database,
deletes its Redis keys and removes the folder.

CPU and memory are read from /proc for each started process and its
descendants, so a caller can take the CPU seconds of a phase as a difference.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processes import cpu_seconds, stop  # noqa: E402

from tests.peers.orthanc import OrthancPeer  # noqa: E402
from tests.peers.ports import free_port  # noqa: E402

HOST = "127.0.0.1"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
# Redis databases tried for one of our own; db 0 is the tests' default.
REDIS_DBS = range(9, 16)
START_TIMEOUT = 90.0


# The services


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"hub_bench_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_broker() -> Iterator[tuple[str, str]]:
    """A broker URL on an empty Redis database, and a queue prefix of our own."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    for db in REDIS_DBS:
        client = redis.Redis(host=HOST, port=REDIS_PORT, db=db, socket_timeout=5)
        if client.dbsize() == 0:
            break
    else:
        raise RuntimeError(f"no empty Redis database among {list(REDIS_DBS)}")
    # A marker, so that a parallel run does not take this database too.
    client.set(f"{prefix}.claim", "1", ex=24 * 3600)
    try:
        yield f"redis://{HOST}:{REDIS_PORT}/{db}", prefix
    finally:
        # Our queues, then kombu's and Celery's bookkeeping (unacked, bindings),
        # but only if nobody else has come to this database meanwhile.
        ours = list(client.scan_iter(match=f"*{prefix}*", count=500))
        if ours:
            client.delete(*ours)
        rest = list(client.scan_iter(match="*", count=500))
        generic = (b"unacked", b"_kombu.")
        if rest and all(key.startswith(generic) for key in rest):
            client.delete(*rest)
        elif rest:
            print(f"left {len(rest)} Redis keys in db {db}: not ours", file=sys.stderr)


@dataclass
class Hub:
    url: str
    token: str
    data_dir: Path
    database_url: str
    orthanc: OrthancPeer
    web: subprocess.Popen[bytes]
    # By the names hub/launch.py gives them: "worker" (both queues) before
    # commit 'one worker per queue', "cpu-worker" and "io-worker" since; and "beat".
    workers: dict[str, subprocess.Popen[bytes]]
    logs: Path
    env: dict[str, str] = field(repr=False)
    queries: int = 0
    _connection: psycopg.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def hub_cpu(self) -> float:
        return cpu_seconds([self.web.pid, *self.worker_pids()])

    def worker_pids(self) -> list[int]:
        return [process.pid for process in self.workers.values()]

    def web_cpu(self) -> float:
        return cpu_seconds([self.web.pid])

    def orthanc_cpu(self) -> float:
        process = self.orthanc._process
        return cpu_seconds([process.pid]) if process else 0.0

    def orthanc_pid(self) -> int:
        process = self.orthanc._process
        assert process is not None
        return process.pid

    def check_alive(self) -> None:
        for name, process in (("gunicorn", self.web), *self.workers.items()):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs}")

    def query(self, sql: str, *args: object) -> list[tuple]:
        """One autocommit query on a connection kept open (one session for the whole run)."""
        with self._lock:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(
                    self.database_url, autocommit=True, connect_timeout=5
                )
            self.queries += 1
            return self._connection.execute(sql, args).fetchall()

    def database_counters(self) -> tuple[int, int]:
        """(sessions, transactions) PostgreSQL counted in the hub's database so far.

        Statistics reach pg_stat_database within a second or so of a
        transaction's end; the caller waits before its last reading.
        """
        [(sessions, transactions)] = self.query(
            "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return sessions, transactions

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def _wait(predicate, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready within {START_TIMEOUT:.0f} s; see {log}")


def _manage(tree: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed in {tree}:\n{tail}")
    return done


def _celery_commands(tree: Path, env: dict[str, str], data_dir: Path) -> list[tuple[str, list]]:
    """The Celery children (name, command) that `make run` of `tree` starts."""
    script = (
        "import json, sys; from pathlib import Path; from hub.launch import hub_children; "
        "print(json.dumps([[c.name, c.command] for c in hub_children(sys.executable, "
        "Path(sys.argv[1])) if c.name not in ('web', 'dicom')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)],
        cwd=tree,
        env={**env, "HUB_DICOM_PORT": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return [(name, command) for name, command in json.loads(done.stdout)]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def running_hub(
    *, tree: Path = ROOT, web_workers: int = 2, keep: bool = False, extra_env: dict | None = None
) -> Iterator[Hub]:
    """The whole stack for the block; `tree` is the source tree the hub runs from."""
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    logs = work / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    orthanc = OrthancPeer(work / "orthanc")
    try:
        with postgres_database() as database_url, redis_broker() as (broker_url, prefix):
            try:
                orthanc.start()
                data_dir = work / "data"
                data_dir.mkdir(mode=0o700)
                port = free_port()
                env = {
                    **os.environ,
                    "HUB_DATA_DIR": str(data_dir),
                    "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
                    "DATABASE_URL": database_url,
                    "CELERY_BROKER_URL": broker_url,
                    "HUB_QUEUE_PREFIX": prefix,
                    "HUB_STOWRS_URL": orthanc.dicomweb_url,
                    "HUB_STOWRS_USERNAME": orthanc.username,
                    "HUB_STOWRS_PASSWORD": orthanc.password,
                    "HUB_STOWRS_TIMEOUT": "900",
                    "HUB_PWA_DIR": str(ROOT / "mobile_client" / "pwa" / "dist"),
                    "HUB_HOST": HOST,
                    "HUB_PORT": str(port),
                    **(extra_env or {}),
                }
                for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]):
                    _manage(tree, env, *step)
                made = _manage(tree, env, "hubuser", "bench", "--role", "capturer")
                token = made.stdout.strip().splitlines()[-1].strip()
                worker_log = logs / "celery.log"
                workers: dict[str, subprocess.Popen[bytes]] = {}
                # The commands of the tree's hub/launch.py; each process leads a
                # session of its own, so Ctrl-C reaches only this script, which
                # stops them in order. All of them log into one file.
                for name, command in _celery_commands(tree, env, data_dir):
                    with worker_log.open("ab") as log:
                        workers[name] = subprocess.Popen(
                            command,
                            cwd=tree,
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    processes.append(workers[name])
                web_log = logs / "gunicorn.log"
                with web_log.open("ab") as log:
                    web = subprocess.Popen(
                        [
                            *(python, "-m", "gunicorn", "hub.wsgi", "--bind", f"{HOST}:{port}"),
                            *("--workers", str(web_workers), "--timeout", "900"),
                            # gunicorn 23+ shares ~/.gunicorn/ between instances otherwise.
                            "--no-control-socket",
                            *("--access-logfile", str(logs / "access.log")),
                        ],
                        cwd=tree,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                processes.append(web)
                url = f"http://{HOST}:{port}"
                _wait(lambda: _answers(f"{url}/healthz"), "gunicorn", web, web_log)
                ready = len([name for name in workers if name != "beat"])
                for name, process in workers.items():
                    _wait(
                        lambda: worker_log.read_bytes().count(b" ready.") >= ready,
                        name,
                        process,
                        worker_log,
                    )
                hub = Hub(
                    url=url,
                    token=token,
                    data_dir=data_dir,
                    database_url=database_url,
                    orthanc=orthanc,
                    web=web,
                    workers=workers,
                    logs=logs,
                    env=env,
                )
                try:
                    yield hub
                finally:
                    hub.close()
            finally:
                for process in reversed(processes):
                    stop(process)
                orthanc.stop()
    finally:
        for process in reversed(processes):
            stop(process)
        orthanc.stop()
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def source_tree(tree: Path | None, commit: str | None) -> Iterator[tuple[Path, str]]:
    """The tree the hub runs from, and how to name it: `tree` as it is on disk, or
    `commit` exported by ``git archive`` (read-only for the repository), so a run
    is not disturbed by edits in the working tree and can be repeated."""
    if commit is None:
        path = (tree or ROOT).resolve()
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        yield path, f"working tree {path} at {head or '?'}" + (" with edits" if dirty else "")
        return
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-tree-"))
    try:
        full = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{commit}^{{commit}}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        archive = subprocess.Popen(
            ["git", "-C", str(ROOT), "archive", "--format=tar", full], stdout=subprocess.PIPE
        )
        subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {full} failed")
        yield folder, f"commit {full[:12]} (git archive)"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def machine_note() -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)"


def dump(value: object) -> str:
    return json.dumps(value, indent=2, default=str)
