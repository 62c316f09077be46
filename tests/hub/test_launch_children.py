"""`make run` starts the DICOM listener as a supervised child only where a port is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.launch import hub_children


@pytest.mark.parametrize("port", ["", "0"])
def test_without_a_dicom_port_there_is_no_listener(monkeypatch, tmp_path: Path, port: str) -> None:
    monkeypatch.setenv("HUB_DICOM_PORT", port)

    names = [child.name for child in hub_children("python", tmp_path)]

    assert names == ["web", "cpu-worker", "io-worker", "beat"]


def test_with_a_dicom_port_the_listener_runs_beside_web_worker_and_beat(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_DICOM_PORT", "11112")

    children = {child.name: child for child in hub_children("python", tmp_path)}

    assert list(children) == ["web", "cpu-worker", "io-worker", "beat", "dicom"]
    assert children["dicom"].command == ["python", "manage.py", "dicom_listener"]


def test_each_queue_has_a_worker_of_its_own(monkeypatch, tmp_path: Path) -> None:
    """A delivery waiting on the archive never holds a slot that cpu work needs."""
    monkeypatch.setenv("HUB_QUEUE_PREFIX", "ward")
    monkeypatch.setenv("HUB_IO_WORKERS", "3")

    children = {child.name: child.command for child in hub_children("python", tmp_path)}

    def option(command: list[str], name: str) -> str:
        return command[command.index(name) + 1]

    assert option(children["cpu-worker"], "-Q") == "ward.cpu"
    assert option(children["io-worker"], "-Q") == "ward.io"
    assert "-c" not in children["cpu-worker"]  # Celery's default: one per core
    assert option(children["io-worker"], "-c") == "3"
    # Two workers on one host need node names of their own (Celery warns of duplicates).
    assert option(children["cpu-worker"], "--hostname") != option(
        children["io-worker"], "--hostname"
    )
