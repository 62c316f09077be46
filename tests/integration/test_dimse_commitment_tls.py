"""Storage Commitment over DICOM TLS both ways, against the real Orthanc with
DicomTlsEnabled: the hub stores and asks over TLS with its client certificate, and
Orthanc reports over TLS to the hub's listener, which wants a certificate of the CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery, DeliveryStatus, Destination
from hub.delivery.services import capture_deliveries_start, delivery_attempt
from tests.hub.delivery.test_delivery_services import encapsulated
from tests.integration.faults import wait_until
from tests.integration.listener import DicomListener
from tests.peers.orthanc import OrthancPeer, OrthancTls
from tests.peers.ports import free_port
from tests.peers.tls import Issued, TestAuthority

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def hub_certificate(authority: TestAuthority) -> Issued:
    """The hub's: its listener's server certificate and its client certificate in one."""
    return authority.issue("hub", server=True)


@pytest.fixture(scope="module")
def peers(
    django_db_setup: None,
    authority: TestAuthority,
    hub_certificate: Issued,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[OrthancPeer, DicomListener]]:
    port = free_port()
    archive = authority.issue("orthanc", server=True)
    orthanc = OrthancPeer(
        tmp_path_factory.mktemp("orthanc-tls"),
        hub_port=port,
        hub_aet=settings.HUB_AE_TITLE,
        tls=OrthancTls(archive.cert, archive.key, authority.ca_file),
    )
    listener = DicomListener(
        tmp_path_factory.mktemp("listener") / "listener.log", callers="", port=port
    )
    orthanc.start()
    try:
        listener.start(
            HUB_DICOM_TLS_CERT=str(hub_certificate.cert),
            HUB_DICOM_TLS_KEY=str(hub_certificate.key),
            HUB_DICOM_TLS_CA=str(authority.ca_file),
        )
        try:
            yield orthanc, listener
        finally:
            listener.stop()
    finally:
        orthanc.stop()


def test_a_delivery_over_tls_is_confirmed_by_orthancs_report_over_tls(
    peers: tuple[OrthancPeer, DicomListener],
    authority: TestAuthority,
    hub_certificate: Issued,
    tmp_path: Path,
    settings,
) -> None:
    orthanc, listener = peers
    settings.HUB_STOWRS_URL = None
    Destination.objects.create(
        name="vna-tls",
        kind="c-store",
        host="127.0.0.1",
        port=orthanc.dicom_port,
        called_aet=orthanc.aet,
        storage_commitment=True,
        tls=True,
        tls_ca_file=str(authority.ca_file),
        tls_cert_file=str(hub_certificate.cert),
        tls_key_file=str(hub_certificate.key),
        timeout_seconds=10,
    )
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)

    delivery_attempt(delivery_id=delivery_id)

    wait_until(
        lambda: Delivery.objects.get(id=delivery_id).status == DeliveryStatus.DELIVERED,
        timeout=30,
        what="the delivery confirmed by Orthanc's report over TLS",
        log=f"{Delivery.objects.get(id=delivery_id).last_error}\n"
        f"{listener.log_tail()}\n{orthanc.log_tail()}",
    )
    instance = capture.instances.get().sop_instance_uid
    assert Delivery.objects.get(id=delivery_id).commitment_report["committed"] == [instance]
    assert Capture.objects.get(id=capture.id).status == CaptureStatus.ARCHIVED
    assert orthanc.find_instance(instance) is not None
