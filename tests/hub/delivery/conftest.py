"""One real Orthanc for all the delivery tests (STOW-RS and C-STORE)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.orthanc import OrthancPeer, running_orthanc


@pytest.fixture(scope="package")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancPeer]:
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as peer:
        yield peer


@pytest.fixture
def running_archive(archive: OrthancPeer) -> OrthancPeer:
    """The archive, started again if an earlier test left it stopped."""
    if not archive.is_running:
        archive.start()
    return archive
