"""`make run`'s children: a worker per queue, the DICOM listener only where a port is set,
and malloc on huge pages."""

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


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "glibc.malloc.hugetlb=1"),
        ("", "glibc.malloc.hugetlb=1"),
        ("glibc.malloc.arena_max=2", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
        # The operator's own word on huge pages stands, off included.
        ("glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0"),
        (
            "glibc.malloc.hugetlb=2:glibc.malloc.arena_max=2",
            "glibc.malloc.hugetlb=2:glibc.malloc.arena_max=2",
        ),
    ],
)
def test_every_child_gets_malloc_on_huge_pages_unless_told_otherwise(
    monkeypatch, tmp_path: Path, given: str | None, expected: str
) -> None:
    if given is None:
        monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    else:
        monkeypatch.setenv("GLIBC_TUNABLES", given)
    monkeypatch.setenv("HUB_DICOM_PORT", "11112")
    monkeypatch.setenv("HUB_QUEUE_PREFIX", "ward")

    children = hub_children("python", tmp_path)

    for child in children:
        assert child.env is not None
        assert child.env["GLIBC_TUNABLES"] == expected, child.name
        # Otherwise the environment is the hub's own.
        assert child.env["HUB_QUEUE_PREFIX"] == "ward"
