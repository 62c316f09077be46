"""The hub's DICOM listener (`manage.py dicom_listener`) as a process of its own, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.worker import test_database_url
from tests.peers.ports import free_port
from tests.peers.process import stop_process

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


class DicomListener:
    """One listener on a free loopback port, on the test database and data directory."""

    def __init__(self, log_path: Path, *, callers: str, port: int | None = None) -> None:
        self.log_path = log_path
        self.callers = callers
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **env: str) -> None:
        environment = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "HUB_DICOM_CALLERS": self.callers,
            **env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "dicom_listener",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                ],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the DICOM listener exited:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the DICOM listener did not listen:\n{self.log_tail()}")

    def stop(self) -> None:
        stop_process(self.process, 20)

    def peak_rss_bytes(self) -> int:
        """The most memory the process has held (VmHWM), for bounds on what it buffers."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
        return int(line.split()[1]) * 1024

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
