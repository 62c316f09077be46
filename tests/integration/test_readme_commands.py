"""README's commands work as written, in a new shell, in the order shown.

`make run` is started as README gives it, on a fresh data directory and the
embedded defaults (SQLite, the filesystem broker); then each later `sh` block
runs in a new bash, word for word, except that README's port 8000 becomes a
free one so two runs never collide. (`make test` is the command running this.)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.media import make_jpeg
from tests.peers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Files README's commands read or write in the checkout, made and removed here.
INPUTS = ("wound.jpg", "photo.jpg", "context.json", "out")
START_TIMEOUT = 300.0


def sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)


def commands(block: str) -> list[str]:
    """The block's commands, comments and blank lines left out."""
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


def test_readme_gives_exactly_two_set_up_commands() -> None:
    assert commands(sh_blocks()[0]) == ["make run", "make test"]


def _hub_environment(data_dir: Path, port: int) -> dict[str, str]:
    """A new shell's environment: none of the test run's own hub settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HUB_", "DJANGO_", "CELERY_")) and name != "DATABASE_URL"
    }
    env.update(HUB_DATA_DIR=str(data_dir), HUB_PORT=str(port))
    return env


@pytest.fixture
def checkout_inputs() -> Iterator[None]:
    present = [name for name in INPUTS if (ROOT / name).exists()]
    if present:
        pytest.fail(f"move {', '.join(present)} out of the checkout: README's commands use them")
    make_jpeg(ROOT / "wound.jpg", width=640, height=480)
    make_jpeg(ROOT / "photo.jpg", width=640, height=480)
    (ROOT / "context.json").write_text(
        json.dumps({"patient": {"id": "MRN-0042", "name": "DOE^JANE"}, "specialty": "wound"})
    )
    try:
        yield
    finally:
        for name in INPUTS:
            path = ROOT / name
            if path.is_dir():
                for child in sorted(path.rglob("*"), reverse=True):
                    child.unlink() if child.is_file() else child.rmdir()
                path.rmdir()
            else:
                path.unlink(missing_ok=True)


@pytest.fixture
def hub_started_by_make_run(tmp_path: Path, checkout_inputs: None) -> Iterator[tuple[int, dict]]:
    port = free_port()
    env = _hub_environment(tmp_path / "data", port)
    log = (tmp_path / "make-run.log").open("wb")
    run = subprocess.Popen(
        ["bash", "-c", commands(sh_blocks()[0])[0]],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert run.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:  # not up yet, or busy starting
                pass
            assert time.monotonic() < deadline, (tmp_path / "make-run.log").read_text()[-3000:]
            time.sleep(1)
        yield port, env
    finally:
        # Ctrl-C, as a person stops it; then make sure nothing is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        log.close()


def _in_a_new_shell(block: str, port: int, env: dict[str, str]) -> str:
    script = block.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.integration
def test_readme_commands_work_as_written_on_the_embedded_defaults(
    hub_started_by_make_run: tuple[int, dict],
) -> None:
    port, env = hub_started_by_make_run
    use_it, wrap_without_hub = sh_blocks()[1], sh_blocks()[2]

    capture = json.loads(_in_a_new_shell(use_it, port, env))
    assert capture["status"] in {"received", "inspected", "matched", "encapsulated"}

    # The embedded broker carries the pipeline: with no archive named, the
    # capture ends encapsulated, waiting for one (README says so too); a wound
    # photo is measured first (encapsulated, its measurement due, no reason yet).
    token = _in_a_new_shell(
        ".venv/bin/python manage.py hubuser ann --role capturer", port, env
    ).splitlines()[-1]
    deadline = time.monotonic() + 120
    while capture["status"] != "encapsulated" or not capture["reason"]:
        assert time.monotonic() < deadline, capture
        time.sleep(1)
        capture = requests.get(
            capture["url"].replace("127.0.0.1:8000", f"127.0.0.1:{port}"),
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        ).json()
    assert "HUB_STOWRS_URL" in capture["reason"]

    printed = _in_a_new_shell(wrap_without_hub, port, env)
    assert json.loads(printed[printed.index("{") :])["mime_type"] == "image/jpeg"
    assert list((ROOT / "out").glob("*.dcm"))
