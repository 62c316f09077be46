"""`make run`: the whole hub on one machine, web and worker, embedded defaults.

Prepares the data directory (a secret key of its own, migrations, static
files), then runs gunicorn and a Celery worker (with its beat, which resumes
stalled work) until either stops or the user presses Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def main() -> int:
    data_dir = Path(os.environ.get("HUB_DATA_DIR") or ROOT / "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["HUB_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SECRET_KEY", _secret_key(data_dir))
    host = os.environ.get("HUB_HOST", "127.0.0.1")
    port = os.environ.get("HUB_PORT", "8000")
    prefix = os.environ.get("HUB_QUEUE_PREFIX", "hub")
    python = sys.executable

    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, check=True)

    processes = [
        subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "--beat",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
                "-Q",
                f"{prefix}.cpu,{prefix}.io",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
        ),
        subprocess.Popen(
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
            ],
            cwd=ROOT,
        ),
    ]
    print(
        f"capture hub on http://{host}:{port}/api/docs/ (data in {data_dir}); "
        f"make a user with: {python} manage.py hubuser NAME --role capturer",
        flush=True,
    )

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    finally:
        stop()
        for process in processes:
            process.wait()
    return max(process.returncode or 0 for process in processes)


if __name__ == "__main__":
    sys.exit(main())
