"""An MHD destination over HTTPS honours its `verify_tls`: the real FHIR engine
behind a TLS relay of the test's own, with a throwaway self-signed certificate."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.captures.models import Capture
from hub.delivery.destinations import sender_for
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Destination, DestinationKind
from hub.env import parse_originals_policy
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate
from tests.hub.factories import received_capture
from tests.peers.fhir import FhirEngine
from tests.peers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db

CONTEXT = {
    "patient": {"id": "MRN-TLS1", "issuer": "HOSP", "name": "DOE^JANE"},
    "specialty": "dermatology",
    "body_site": {"code": "SCT:39937001", "meaning": "Skin", "laterality": "L"},
    "operator": "NURSE^ANN",
    "institution": "General Hospital",
    "captured_at": "2026-11-28T10:15:00+01:00",
}


class TlsRelay(TcpProxy):
    """TLS on the outside, the peer's plain HTTP inside."""

    def __init__(self, target_port: int, certificate: Path, key: Path) -> None:
        super().__init__(target_port)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate, key)

    def _relay(self, client: socket.socket) -> None:
        try:
            wrapped = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate
            client.close()
            return
        super()._relay(wrapped)


@pytest.fixture
def https_mhd(tmp_path: Path, settings, fhir_engine: FhirEngine) -> Iterator[str]:
    """The FHIR engine's base URL over HTTPS, behind a self-signed certificate."""
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    relay = TlsRelay(fhir_engine.port, certificate, key)
    relay.start()
    settings.HUB_FHIR_URL = None
    settings.HUB_STOWRS_URL = None
    settings.HUB_MHD_URL = None
    settings.HUB_XDS_SOURCE_ID = "1.2.826.0.1.3680043.10.1234"
    settings.HUB_XDS_ASSIGNING_AUTHORITIES = {"HOSP": "1.2.826.0.1.3680043.10.1234.1"}
    settings.HUB_ORIGINALS_BY_SPECIALTY = parse_originals_policy("T", "dicom,dermatology:original")
    try:
        yield fhir_engine.base_url.replace(fhir_engine.url, f"https://127.0.0.1:{relay.port}")
    finally:
        relay.stop()


def _encapsulated(tmp_path: Path) -> Capture:
    capture = received_capture(tmp_path, context=CONTEXT, inspected=True)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    capture.refresh_from_db()
    return capture


def _destination(url: str, *, verify_tls: bool) -> Destination:
    return Destination(
        name="mhd-tls", kind=DestinationKind.MHD, url=url, verify_tls=verify_tls, timeout_seconds=10
    )


def test_a_self_signed_recipient_is_refused_while_verify_tls_is_on(
    tmp_path: Path, https_mhd: str
) -> None:
    capture = _encapsulated(tmp_path)

    with pytest.raises(DeliveryError) as refused:
        sender_for(_destination(https_mhd, verify_tls=True)).send(capture)

    assert "SSLError" in str(refused.value)
    # A certificate that does not verify needs a person: not retried, not transient.
    assert "certificate does not verify" in str(refused.value)
    assert not refused.value.transient


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_self_signed_recipient_takes_the_document_once_verify_tls_is_off(
    tmp_path: Path, https_mhd: str, fhir_engine: FhirEngine
) -> None:
    capture = _encapsulated(tmp_path)

    receipt = sender_for(_destination(https_mhd, verify_tls=False)).send(capture)

    assert receipt.retrieve_url and receipt.retrieve_url.startswith("https://127.0.0.1:")
    reference = receipt.retrieve_url.rsplit("/", 2)[-2:]
    assert reference[0] == "DocumentReference"
    stored = fhir_engine.read("/".join(reference))
    assert stored["masterIdentifier"]["value"] == f"urn:oid:{capture.sop_instance_uid}"
