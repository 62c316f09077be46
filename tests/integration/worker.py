"""A real Celery worker process for the integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django made, for a process of its own."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{db['NAME']}"


class CeleryWorker:
    def __init__(
        self,
        log_path: Path,
        env: dict[str, str],
        *,
        queues: tuple[str, ...] | None = None,
        beat: bool = True,
    ) -> None:
        """A worker on both of the hub's queues with its beat, unless told otherwise."""
        self.log_path = log_path
        self.env = env
        self.queues = queues
        self.beat = beat
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        queues = ",".join(self.queues or (settings.HUB_QUEUE_CPU, settings.HUB_QUEUE_IO))
        beat = ["--beat", "--schedule", str(self.log_path.with_suffix(".beat"))]
        env = {**os.environ, "DATABASE_URL": test_database_url(), **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "hub",
                    "worker",
                    *(beat if self.beat else []),
                    "-Q",
                    queues,
                    "-c",
                    "2",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"test-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited:\n{self.log_tail()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not become ready:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
