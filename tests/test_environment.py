"""Under CI the test run refuses the embedded fallback: no PostgreSQL or Redis, no run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.peers.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
# What tests/environment.py reads or sets; the run that started this test has set some.
CHOSEN = (
    "CI",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "HUB_TEST_EMBEDDED",
    "HUB_TEST_POSTGRES_PORT",
    "HUB_TEST_REDIS_PORT",
    "HUB_DATA_DIR",
    "HUB_QUEUE_PREFIX",
)
REPORT = (
    "import json, os, tests.environment; "
    "print(json.dumps([os.environ.get('DATABASE_URL'), os.environ.get('CELERY_BROKER_URL')]))"
)


def load_environment(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Imports tests/environment.py in a fresh interpreter, as pytest does at start-up."""
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN}
    return subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=ROOT,
        env={**clean, "TMPDIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ci_refuses_a_postgresql_that_does_not_answer(tmp_path: Path) -> None:
    port = free_port()

    run = load_environment(tmp_path, CI="true", HUB_TEST_POSTGRES_PORT=str(port))

    assert run.returncode != 0, run.stdout
    assert "PostgreSQL does not answer" in run.stderr
    assert f"127.0.0.1:{port}" in run.stderr
    assert run.stdout == ""  # it stopped before choosing anything


def test_ci_refuses_a_redis_that_does_not_answer(tmp_path: Path) -> None:
    port = free_port()

    run = load_environment(
        tmp_path,
        CI="1",
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/given",  # set, so not probed
        HUB_TEST_REDIS_PORT=str(port),
    )

    assert run.returncode != 0, run.stdout
    assert "Redis does not answer" in run.stderr
    assert f"127.0.0.1:{port}" in run.stderr


def test_ci_may_choose_the_embedded_stack_on_purpose(tmp_path: Path) -> None:
    run = load_environment(
        tmp_path,
        CI="true",
        HUB_TEST_EMBEDDED="1",
        HUB_TEST_POSTGRES_PORT=str(free_port()),
        HUB_TEST_REDIS_PORT=str(free_port()),
    )

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [None, None]


def test_outside_ci_the_embedded_stack_is_the_fallback(tmp_path: Path) -> None:
    run = load_environment(
        tmp_path,
        HUB_TEST_POSTGRES_PORT=str(free_port()),
        HUB_TEST_REDIS_PORT=str(free_port()),
    )

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [None, None]
