"""The listener over TLS (HUB_DICOM_TLS_*): DCMTK's storescu with +tls stores with a
client certificate of the hub's CA; a caller without TLS stores nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from hub.captures.models import Capture
from tests.integration.dimse_objects import write_sc_photo
from tests.integration.listener import DicomListener
from tests.peers.tls import TestAuthority

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_listener(
    django_db_setup: None, authority: TestAuthority, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DicomListener]:
    server = authority.issue("hub", server=True)
    listener = DicomListener(
        tmp_path_factory.mktemp("listener") / "listener.log", callers="STORESCU@127.0.0.1"
    )
    listener.start(
        HUB_DICOM_TLS_CERT=str(server.cert),
        HUB_DICOM_TLS_KEY=str(server.key),
        HUB_DICOM_TLS_CA=str(authority.ca_file),
    )
    try:
        yield listener
    finally:
        listener.stop()


def _storescu(listener: DicomListener, photo: Path, *tls: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["storescu", *tls, "-aet", "STORESCU", "-aec", settings.HUB_AE_TITLE, "-xy",
         "127.0.0.1", str(listener.port), str(photo)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_device_with_a_certificate_of_the_ca_stores_over_tls(
    tls_listener: DicomListener, authority: TestAuthority, tmp_path: Path
) -> None:
    device = authority.issue("device", server=False)
    sent = write_sc_photo(tmp_path / "photo.dcm")

    result = _storescu(
        tls_listener,
        tmp_path / "photo.dcm",
        "+tls", str(device.key), str(device.cert), "-pw", "+cf", str(authority.ca_file),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr + tls_listener.log_tail()
    assert Capture.objects.get().context["patient"]["id"] == sent.PatientID


def test_a_caller_without_tls_stores_nothing(tls_listener: DicomListener, tmp_path: Path) -> None:
    write_sc_photo(tmp_path / "photo.dcm")

    result = _storescu(tls_listener, tmp_path / "photo.dcm")

    assert result.returncode != 0
    assert not Capture.objects.exists()


def test_a_device_certificate_of_another_ca_stores_nothing(
    tls_listener: DicomListener, authority: TestAuthority, tmp_path: Path
) -> None:
    stranger = TestAuthority(tmp_path / "other-ca", name="Some Other CA").issue(
        "device", server=False
    )
    write_sc_photo(tmp_path / "photo.dcm")

    result = _storescu(
        tls_listener,
        tmp_path / "photo.dcm",
        "+tls", str(stranger.key), str(stranger.cert), "-pw", "+cf", str(authority.ca_file),
    )  # fmt: skip

    assert result.returncode != 0
    assert not Capture.objects.exists()
