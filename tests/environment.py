"""Chooses the services the test run uses, before Django reads its settings.

Loaded as a pytest plugin (`-p tests.environment`) so that it runs before
pytest-django imports `hub.settings`. PostgreSQL and Redis are used when they
answer on their loopback ports (HUB_TEST_POSTGRES_PORT, HUB_TEST_REDIS_PORT;
5432 and 6379 by default); otherwise SQLite and the serverless filesystem
broker. Variables already set win, and HUB_TEST_EMBEDDED=1 forces the embedded
defaults.

Under CI (the variable CI set, as `.ci/run` is run) the fallback is refused: a
PostgreSQL or Redis that does not answer ends the run at start-up, naming it,
so that a green CI always means the production stack was tested.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from typing import NoReturn

HOST = "127.0.0.1"


def _answers(host: str, port: int, probe: bytes | None = None, expect: bytes = b"") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            if probe is None:
                return True
            sock.sendall(probe)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a TCP port number, not {value!r}") from None


def _postgres_url(port: int) -> tuple[str | None, str]:
    """A URL for a database of this run's own, or None and why PostgreSQL cannot be used."""
    if not _answers(HOST, port):
        return None, f"nothing answers on {HOST}:{port}"
    try:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@{HOST}:{port}/postgres", connect_timeout=2):
            pass
    except Exception as error:
        return None, f"{HOST}:{port} refuses the connection as postgres ({error})"
    # A name of its own: pytest-django makes and drops test_<name>, and two
    # runs on one server must not drop each other's database.
    return f"postgresql://postgres@{HOST}:{port}/capturehub_{uuid.uuid4().hex[:8]}", ""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _refuse(service: str, why: str) -> NoReturn:
    raise SystemExit(
        f"tests/environment.py: CI is set, but {service} does not answer: {why}. "
        "CI tests the production stack (PostgreSQL and Redis), never the embedded "
        f"fallback (SQLite, the filesystem broker). Start {service} (`bash .ci/run` "
        "tries to), or set HUB_TEST_EMBEDDED=1 to test the embedded stack on purpose."
    )


def _choose() -> None:
    embedded = os.environ.get("HUB_TEST_EMBEDDED") == "1"
    data_dir = tempfile.mkdtemp(prefix="hub-test-")
    os.environ.setdefault("HUB_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + uuid.uuid4().hex)
    # Most tests send an MRN alone without an EMR; the rule's own tests turn it on.
    os.environ.setdefault("HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR", "false")
    # A queue prefix of its own keeps parallel runs on one broker apart.
    os.environ.setdefault("HUB_QUEUE_PREFIX", f"test-{uuid.uuid4().hex[:8]}")
    required = _in_ci() and not embedded
    if not embedded and "DATABASE_URL" not in os.environ:
        url, why = _postgres_url(_port("HUB_TEST_POSTGRES_PORT", 5432))
        if url:
            os.environ["DATABASE_URL"] = url
        elif required:
            _refuse("PostgreSQL", why)
    if not embedded and "CELERY_BROKER_URL" not in os.environ:
        port = _port("HUB_TEST_REDIS_PORT", 6379)
        if _answers(HOST, port, b"PING\r\n", b"+PONG"):
            os.environ["CELERY_BROKER_URL"] = f"redis://{HOST}:{port}/0"
        elif required:
            _refuse("Redis", f"no PONG to a PING on {HOST}:{port}")
    # Retries come quickly in tests; production waits minutes.
    os.environ.setdefault("HUB_DELIVERY_RETRY_BASE_SECONDS", "0.5")
    os.environ.setdefault("HUB_DELIVERY_RETRY_MAX_SECONDS", "2")
    os.environ.setdefault("HUB_DELIVERY_MAX_ATTEMPTS", "40")
    os.environ.setdefault("HUB_RESUME_INTERVAL_SECONDS", "5")


_choose()


def pytest_report_header() -> list[str]:
    return [
        f"hub database: {os.environ.get('DATABASE_URL', 'sqlite (embedded)')}",
        f"hub broker: {os.environ.get('CELERY_BROKER_URL', 'filesystem (embedded)')}",
        f"hub data dir: {os.environ['HUB_DATA_DIR']}",
    ]
