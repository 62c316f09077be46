"""Running a test peer as a child process: stop it cleanly, wait until it answers."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import requests


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def wait_until_answers(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    session: requests.Session,
    timeout: float,
    name: str,
    log_tail: Callable[[], str],
    error: type[Exception],
) -> None:
    """Poll `url` until it answers 200; raise `error` with the log if the peer
    exits or stays silent for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise error(f"{name} exited with {process.returncode} on start\n{log_tail()}")
        try:
            response = session.get(url, timeout=2)
            if response.status_code == 200:
                return
            last_error = f"answered {response.status_code}"
        except requests.RequestException as exc:
            last_error = type(exc).__name__
        time.sleep(0.1)
    raise error(
        f"{name} did not answer on {url} within {timeout:.0f} s ({last_error})\n{log_tail()}"
    )
