"""A redis-server of a test's own on a free loopback port, to be restarted at will.

It keeps its port and its data directory across stop/start, and writes an
append-only file, so a restart is what a hospital's broker restart is: queued
messages survive, every client connection is cut.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.peers.ports import free_port
from tests.peers.process import stop_process

REDIS_BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


class RedisPeerError(RuntimeError):
    pass


class RedisPeer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = self.workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            REDIS_BINARY,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.workdir),
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisPeerError(f"redis-server exited on start:\n{self.log_tail()}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RedisPeerError(f"redis-server did not answer within {START_TIMEOUT} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process, STOP_TIMEOUT)

    def kill(self) -> None:
        """A crash: SIGKILL, every connection reset at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self, down_for: float = 1.0, *, crash: bool = False) -> None:
        self.kill() if crash else self.stop()
        time.sleep(down_for)
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
