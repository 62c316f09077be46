"""What `make run` and `manage.py` share on one machine: the data directory and its key.

Both must find the same ones, in any shell and in any order, or README's next
command after `make run` talks to another database than the hub does. The
data directory is HUB_DATA_DIR when set; else the one the last `make run` on
this checkout used, which it records in `.hub-data-dir` (while that folder
exists); else `./var`. The
secret key is DJANGO_SECRET_KEY when set; else the one kept in the data
directory (made on first use, readable by its owner only). A production
deployment sets both variables, and then nothing here applies.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ".hub-data-dir"


def local_data_dir(root: Path = ROOT) -> Path:
    given = os.environ.get("HUB_DATA_DIR")
    if given:
        return Path(given).resolve()
    record = root / RECORD
    if record.is_file() and (recorded := Path(record.read_text().strip())).is_dir():
        return recorded
    # No record, or one naming a folder since removed.
    return (root / "var").resolve()


def local_secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        # Created readable by the owner only, never world-readable for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key:
            key.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def local_environment(*, record: bool, root: Path = ROOT) -> Path:
    """Sets HUB_DATA_DIR and DJANGO_SECRET_KEY where unset; `record` remembers the directory."""
    data_dir = local_data_dir(root)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir == (root / "var").resolve() and data_dir.stat().st_mode & 0o077:
        # The default folder of an older `make run` was 0755; it holds patients' images.
        data_dir.chmod(0o700)
    os.environ["HUB_DATA_DIR"] = str(data_dir)
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ["DJANGO_SECRET_KEY"] = local_secret_key(data_dir)
    if record:
        (root / RECORD).write_text(f"{data_dir}\n")
    return data_dir
