"""`make run`: the whole hub on one machine - web, worker and beat - embedded defaults.

Prepares the data directory (a secret key of its own, migrations, static
files), then runs gunicorn, a Celery worker for each queue (cpu: one process
per core; io: HUB_IO_WORKERS, 2) and Celery beat (which sweeps for due
retries and stalled work) as children, and the DICOM listener when
HUB_DICOM_PORT is set, and keeps them running: a
child that exits is started again after a backoff (1 s, doubling to a minute,
back to 1 s once it has stayed up a minute). Only Ctrl-C (or SIGTERM) stops
the hub; then every child is stopped and waited for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.local_setup import local_environment

ROOT = Path(__file__).resolve().parent.parent
# A worker finishes its running tasks on SIGTERM; past this it is killed (its
# steps' leases run out and they are taken again).
STOP_TIMEOUT = 30.0
POLL_SECONDS = 0.5
# gunicorn's default with the path (%(U)s) instead of the request line, and no
# referrer: a query string may hold a patient's identifier, and no log line may.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


@dataclass
class Child:
    """One supervised process: its command, and how often it has had to be restarted."""

    name: str
    command: list[str]
    cwd: Path = ROOT
    env: dict[str, str] | None = None  # None: this process's environment
    log: Path | None = None  # None: this process's stdout and stderr
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    stable_after: float = 60.0
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    failures: int = field(default=0, repr=False)  # in a row, for the backoff
    started_at: float = 0.0
    start_after: float = 0.0

    def start(self) -> None:
        if self.log is None:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env)
        else:
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=out
                )
        self.started_at = time.monotonic()
        print(f"launch: started {self.name} (pid {self.process.pid})", flush=True)

    def check(self, now: float) -> None:
        """Starts the child when due; notices an exit and schedules the restart."""
        if self.process is None:
            if now >= self.start_after:
                self.start()
            return
        code = self.process.poll()
        if code is None:
            return
        ran = now - self.started_at
        self.failures = 0 if ran >= self.stable_after else self.failures + 1
        delay = min(self.backoff_base * 2 ** max(self.failures - 1, 0), self.backoff_max)
        print(
            f"launch: {self.name} exited with {code} after {ran:.0f} s; "
            f"starting it again in {delay:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        self.process = None
        self.restarts += 1
        self.start_after = now + delay

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def supervise(children: list[Child], stopping: threading.Event) -> None:
    """Keeps every child running until `stopping` is set, then stops them all."""
    try:
        while not stopping.is_set():
            now = time.monotonic()
            for child in children:
                if not stopping.is_set():
                    child.check(now)
            stopping.wait(POLL_SECONDS)
    finally:
        for child in children:
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        for child in children:
            child.stop()


def tls_arguments(environ: Mapping[str, str]) -> list[str]:
    """gunicorn's TLS options from HUB_TLS_CERT and HUB_TLS_KEY (PEM files): both or
    neither, so that a half-configured hub fails at start rather than serving HTTP."""
    cert, key = environ.get("HUB_TLS_CERT", ""), environ.get("HUB_TLS_KEY", "")
    if not cert and not key:
        return []
    if not (cert and key):
        raise SystemExit("HUB_TLS_CERT and HUB_TLS_KEY go together: set both or neither")
    for name, path in (("HUB_TLS_CERT", cert), ("HUB_TLS_KEY", key)):
        if not Path(path).is_file():
            raise SystemExit(f"{name}={path} is not a file")
    return ["--certfile", cert, "--keyfile", key]


def hub_children(python: str, data_dir: Path) -> list[Child]:
    host = os.environ.get("HUB_HOST", "127.0.0.1")
    port = os.environ.get("HUB_PORT", "8000")
    prefix = os.environ.get("HUB_QUEUE_PREFIX", "hub")
    celery = [python, "-m", "celery", "-A", "hub"]
    worker = [*celery, "worker", "--loglevel", "INFO"]
    io_workers = os.environ.get("HUB_IO_WORKERS", "2")
    # The DICOM listener (docs/dimse.md) only where a port is set.
    dicom = [Child("dicom", [python, "manage.py", "dicom_listener"])]
    if os.environ.get("HUB_DICOM_PORT", "").strip() in ("", "0"):
        dicom = []
    return [
        Child(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "hub.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                os.environ.get("HUB_WEB_WORKERS", "2"),
                "--timeout",
                "900",
                "--access-logfile",
                "-",
                "--access-logformat",
                ACCESS_LOG_FORMAT,
                # A control socket of its own: the default one under ~/.gunicorn
                # is shared by every gunicorn of the user, and one's exit removes it.
                "--control-socket",
                str(data_dir / "gunicorn.ctl"),
                *tls_arguments(os.environ),
            ],
        ),
        # One worker per queue: a delivery waiting on the archive must not hold
        # one of the cpu slots (one per core), or a core idles while it waits.
        Child(
            "cpu-worker",
            [*worker, "-Q", f"{prefix}.cpu", "--hostname", f"cpu.{prefix}@%h"],
        ),
        Child(
            "io-worker",
            [*worker, "-Q", f"{prefix}.io", "--hostname", f"io.{prefix}@%h", "-c", io_workers],
        ),
        # Beat on its own: the sweep must not die with one worker. Two beats
        # would only send work twice, which every step's claim makes harmless.
        Child(
            "beat",
            [
                *celery,
                "beat",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
                "--loglevel",
                "INFO",
            ],
        ),
        *dicom,
    ]


def main() -> int:
    # Patients' images: the data directory and everything in it for the hub's user
    # only (as hub.settings sets for its own processes; the check hub.E001 insists).
    os.umask(0o077)
    # A half-configured TLS fails here, before anything is started.
    scheme = "https" if tls_arguments(os.environ) else "http"
    # Recorded, so that manage.py in any later shell finds this directory and its key.
    data_dir = local_environment(record=True)
    python = sys.executable

    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, check=True)

    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = os.environ.get("HUB_HOST", "127.0.0.1"), os.environ.get("HUB_PORT", "8000")
    print(
        f"capture hub on {scheme}://{host}:{port}/api/docs/ (data in {data_dir}); "
        f"make a user with: {python} manage.py hubuser NAME --role capturer",
        flush=True,
    )
    supervise(hub_children(python, data_dir), stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
