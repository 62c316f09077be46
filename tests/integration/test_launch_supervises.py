"""`make run` keeps the hub running: a child that dies is started again, with a
backoff; only Ctrl-C stops the hub, and then every child with it."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from hub.launch import Child, supervise
from tests.integration.faults import wait_until
from tests.peers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


def test_a_child_that_keeps_exiting_is_started_again_with_a_growing_backoff(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    script = f"import time; open({str(starts)!r}, 'a').write(f'{{time.monotonic()}}\\n')"
    child = Child("crasher", [sys.executable, "-c", script], backoff_base=1.0, backoff_max=8)
    stopping = threading.Event()
    thread = threading.Thread(target=supervise, args=([child], stopping))
    thread.start()
    try:
        wait_until(
            lambda: starts.exists() and len(starts.read_text().split()) >= 4,
            timeout=40,
            what="four starts",
        )
    finally:
        stopping.set()
        thread.join(timeout=30)
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert child.restarts >= 3
    # Waits of 1, 2 and 4 s, each plus up to a poll interval and a start-up.
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0 and gaps[2] >= 4.0
    assert gaps[2] > gaps[0] * 2


def test_a_killed_child_is_restarted_and_stopping_ends_every_child(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    children = [Child("a", sleeper, backoff_base=0.1), Child("b", sleeper, backoff_base=0.1)]
    stopping = threading.Event()
    thread = threading.Thread(target=supervise, args=(children, stopping))
    thread.start()
    try:
        wait_until(lambda: all(c.process for c in children), timeout=10, what="both started")
        first = children[0].process
        assert first is not None
        first.kill()
        wait_until(
            lambda: children[0].process is not None and children[0].process is not first,
            timeout=10,
            what="the killed child started again",
        )
        pids = [c.process.pid for c in children if c.process]
    finally:
        stopping.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert children[0].restarts == 1 and children[1].restarts == 0
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.integration
def test_make_run_restarts_its_killed_worker_and_stops_only_on_ctrl_c(tmp_path: Path) -> None:
    """The real launcher, on the embedded stack (SQLite, filesystem broker)."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY")
    }
    env.update(HUB_DATA_DIR=str(tmp_path / "data"), HUB_PORT=str(port), HUB_WEB_WORKERS="1")
    log = tmp_path / "launch.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "hub.launch"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:

        def pids(name: str) -> list[int]:
            return [int(p) for p in re.findall(rf"started {name} \(pid (\d+)\)", log.read_text())]

        def web_answers() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(web_answers, timeout=120, what="the web answers", log=log.read_text())
        wait_until(
            lambda: pids("cpu-worker") and pids("io-worker") and pids("beat"),
            timeout=30,
            what="the workers and beat",
        )
        os.kill(pids("cpu-worker")[0], signal.SIGKILL)
        wait_until(
            lambda: len(pids("cpu-worker")) == 2,
            timeout=30,
            what="the worker started again",
            log=log.read_text(),
        )
        assert launcher.poll() is None  # the hub did not stop with its worker
        children = pids("web") + pids("cpu-worker")[1:] + pids("io-worker") + pids("beat")

        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=90)
        assert launcher.returncode == 0
        assert not any(_alive(pid) for pid in children), log.read_text()[-3000:]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
