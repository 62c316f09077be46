"""`make run` starts the DICOM listener as a supervised child only where a port is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.launch import hub_children


@pytest.mark.parametrize("port", ["", "0"])
def test_without_a_dicom_port_there_is_no_listener(monkeypatch, tmp_path: Path, port: str) -> None:
    monkeypatch.setenv("HUB_DICOM_PORT", port)

    names = [child.name for child in hub_children("python", tmp_path)]

    assert names == ["web", "worker", "beat"]


def test_with_a_dicom_port_the_listener_runs_beside_web_worker_and_beat(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_DICOM_PORT", "11112")

    children = {child.name: child for child in hub_children("python", tmp_path)}

    assert list(children) == ["web", "worker", "beat", "dicom"]
    assert children["dicom"].command == ["python", "manage.py", "dicom_listener"]
