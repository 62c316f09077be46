"""C-STORE over TLS (PS3.15 B.1) to DCMTK's storescp running with +tls, against a
throwaway CA made by the test."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.cstore import CStoreClient, TlsOptions
from tests.hub.delivery.photos import write_photo
from tests.peers.ports import free_port
from tests.peers.process import stop_process
from tests.peers.tls import TestAuthority

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_archive(
    authority: TestAuthority, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, Path]]:
    """storescp over TLS that wants a client certificate from the same CA; (port, its folder)."""
    server = authority.issue("archive", server=True)
    folder = tmp_path_factory.mktemp("stored")
    port = free_port()
    log = (folder.parent / "storescp.log").open("wb")
    process = subprocess.Popen(
        ["storescp", "+tls", str(server.key), str(server.cert), "-pw",
         "+cf", str(authority.ca_file), "+xa", "-od", str(folder), str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, "storescp exited"
            time.sleep(0.1)
    try:
        yield port, folder
    finally:
        stop_process(process, 10)
        log.close()


def _client(port: int, tls: TlsOptions) -> CStoreClient:
    return CStoreClient("127.0.0.1", port, called_aet="STORESCP", timeout=10, tls=tls)


def test_store_over_tls_with_the_hubs_client_certificate(
    authority: TestAuthority, tls_archive: tuple[int, Path], tmp_path: Path
) -> None:
    port, folder = tls_archive
    hub = authority.issue("hub", server=False)
    sent = write_photo(tmp_path / "photo.dcm")

    receipt = _client(
        port,
        TlsOptions(ca_file=str(authority.ca_file), cert_file=str(hub.cert), key_file=str(hub.key)),
    ).store([tmp_path / "photo.dcm"])

    assert receipt.stored_sop_instance_uids == (sent.SOPInstanceUID,)
    [stored] = [p for p in folder.iterdir() if sent.SOPInstanceUID in p.name]
    assert pydicom.dcmread(stored).PixelData == sent.PixelData


def test_an_archive_certificate_from_another_ca_is_refused_for_good(
    tls_archive: tuple[int, Path], tmp_path: Path
) -> None:
    port, _ = tls_archive
    stranger = TestAuthority(tmp_path / "other-ca", name="Some Other CA")
    write_photo(tmp_path / "photo.dcm")

    with pytest.raises(DeliveryError) as raised:
        _client(port, TlsOptions(ca_file=str(stranger.ca_file))).store([tmp_path / "photo.dcm"])

    assert raised.value.transient is False
    assert "failed the TLS handshake (CERTIFICATE_VERIFY_FAILED)" in raised.value.reason


def test_an_unreadable_ca_file_is_a_permanent_error(tmp_path: Path) -> None:
    write_photo(tmp_path / "photo.dcm")

    with pytest.raises(DeliveryError) as raised:
        _client(free_port(), TlsOptions(ca_file=str(tmp_path / "missing.pem"))).store(
            [tmp_path / "photo.dcm"]
        )

    assert raised.value.transient is False
    assert "TLS files" in raised.value.reason
