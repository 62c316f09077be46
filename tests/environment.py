"""Chooses the services the test run uses, before Django reads its settings.

Loaded as a pytest plugin (`-p tests.environment`) so that it runs before
pytest-django imports `hub.settings`. PostgreSQL and Redis are used when they
answer on their usual loopback ports (CI has them); otherwise SQLite and the
serverless filesystem broker. Variables already set win, and
HUB_TEST_EMBEDDED=1 forces the embedded defaults.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid


def _answers(host: str, port: int, probe: bytes | None = None, expect: bytes = b"") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            if probe is None:
                return True
            sock.sendall(probe)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def _postgres_url() -> str | None:
    if not _answers("127.0.0.1", 5432):
        return None
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            pass
    except Exception:
        return None
    # A name of its own: pytest-django makes and drops test_<name>, and two
    # runs on one server must not drop each other's database.
    return f"postgresql://postgres@127.0.0.1:5432/capturehub_{uuid.uuid4().hex[:8]}"


def _choose() -> None:
    embedded = os.environ.get("HUB_TEST_EMBEDDED") == "1"
    data_dir = tempfile.mkdtemp(prefix="hub-test-")
    os.environ.setdefault("HUB_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + uuid.uuid4().hex)
    # A queue prefix of its own keeps parallel runs on one broker apart.
    os.environ.setdefault("HUB_QUEUE_PREFIX", f"test-{uuid.uuid4().hex[:8]}")
    if not embedded and "DATABASE_URL" not in os.environ:
        url = _postgres_url()
        if url:
            os.environ["DATABASE_URL"] = url
    redis_answers = _answers("127.0.0.1", 6379, b"PING\r\n", b"+PONG")
    if not embedded and "CELERY_BROKER_URL" not in os.environ and redis_answers:
        os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"
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
