"""`make run` and `manage.py` find one data directory and one secret key, in any shell."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hub.local_setup import RECORD, local_data_dir, local_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_DATA_DIR", raising=False)
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)


def test_the_data_directory_is_the_variable_then_the_recorded_one_then_var(
    tmp_path: Path, bare_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local_data_dir(tmp_path) == (tmp_path / "var").resolve()

    (tmp_path / RECORD).write_text(f"{tmp_path / 'elsewhere'}\n")
    assert local_data_dir(tmp_path) == (tmp_path / "var").resolve()  # removed since
    (tmp_path / "elsewhere").mkdir()
    assert local_data_dir(tmp_path) == tmp_path / "elsewhere"

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "given"))
    assert local_data_dir(tmp_path) == tmp_path / "given"


def test_make_run_records_its_directory_and_a_later_shell_finds_it_and_its_key(
    tmp_path: Path, bare_environment: None
) -> None:
    os.environ["HUB_DATA_DIR"] = str(tmp_path / "ward-hub")
    first = local_environment(record=True, root=tmp_path)
    key = os.environ["DJANGO_SECRET_KEY"]

    # A new shell: neither variable is set.
    del os.environ["HUB_DATA_DIR"], os.environ["DJANGO_SECRET_KEY"]
    again = local_environment(record=False, root=tmp_path)

    assert again == first == tmp_path / "ward-hub"
    assert os.environ["DJANGO_SECRET_KEY"] == key
    assert stat.S_IMODE((first / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(first.stat().st_mode) == 0o700


def test_manage_py_needs_no_secret_key_in_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["HUB_DATA_DIR"] = str(tmp_path / "data")
    env.pop("DATABASE_URL", None)  # the embedded SQLite under that data directory
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "data" / "secret_key").is_file()


def test_an_older_make_runs_open_default_folder_is_closed_to_others(
    tmp_path: Path, bare_environment: None
) -> None:
    (tmp_path / "var").mkdir(mode=0o755)
    (tmp_path / "var").chmod(0o755)

    data_dir = local_environment(record=False, root=tmp_path)

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
