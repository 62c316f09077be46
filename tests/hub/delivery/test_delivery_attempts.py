"""Each try of a delivery on record: a real Orthanc behind a relay that refuses the
first try, then lets the second through; the capture's timeline and its FHIR
audit export name both tries, their destination, outcome and reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.fhir import audit_event_resource
from hub.audit.models import AuditEvent, Outcome
from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery
from hub.delivery.services import capture_deliveries_start, delivery_attempt
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from hub.workbench.timeline import capture_timeline
from tests.hub.factories import received_capture
from tests.peers.orthanc import OrthancPeer
from tests.peers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db


@pytest.fixture
def relay(running_archive: OrthancPeer, settings) -> Iterator[TcpProxy]:
    """The archive's DICOMweb side behind a relay, the hub's STOW-RS destination."""
    proxy = TcpProxy(running_archive.http_port)
    proxy.start()
    settings.HUB_STOWRS_URL = f"http://127.0.0.1:{proxy.port}/dicom-web"
    settings.HUB_STOWRS_USERNAME = running_archive.username
    settings.HUB_STOWRS_PASSWORD = running_archive.password
    settings.HUB_DELIVERY_RETRY_BASE_SECONDS = 0.1
    settings.HUB_DELIVERY_MAX_ATTEMPTS = 3
    yield proxy
    proxy.stop()


def encapsulated(tmp_path: Path) -> Capture:
    capture = received_capture(tmp_path)
    capture_inspect(capture_id=capture.id)
    capture_match(capture_id=capture.id)
    capture_encapsulate(capture_id=capture.id)
    return capture


def delivered_at_the_second_try(tmp_path: Path, relay: TcpProxy) -> Capture:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    relay.refusing = True
    assert delivery_attempt(delivery_id=delivery_id).retry_in is not None
    relay.refusing = False
    Delivery.objects.filter(id=delivery_id).update(next_attempt_at=None)
    assert delivery_attempt(delivery_id=delivery_id).archived
    capture.refresh_from_db()
    return capture


def test_a_try_refused_then_one_delivered_are_two_lines_on_the_timeline(
    tmp_path: Path, relay: TcpProxy
) -> None:
    capture = delivered_at_the_second_try(tmp_path, relay)

    assert capture.status == CaptureStatus.ARCHIVED
    tries = [
        m
        for m in capture_timeline(capture, list(capture.audit_events.all()))
        if "attempt" in m.what
    ]
    assert [m.what for m in tries] == [
        "delivery attempt 1 to archive: failed, tried again",
        "delivery attempt 2 to archive: delivered",
    ]
    assert f"127.0.0.1:{relay.port}" in tries[0].detail
    assert tries[1].detail == ""
    assert tries[0].at is not None and tries[1].at is not None and tries[0].at < tries[1].at
    # The row's own summary stays; its end is not told twice.
    whats = [m.what for m in capture_timeline(capture, list(capture.audit_events.all()))]
    assert "delivery to archive" in whats and "delivered to archive" not in whats


def test_the_capture_page_lists_each_try_with_its_time_and_reason(
    tmp_path: Path, relay: TcpProxy
) -> None:
    capture = delivered_at_the_second_try(tmp_path, relay)
    browser = Client()
    browser.force_login(user_create_or_update(username="it-ops", role=Role.OPERATOR))

    page = browser.get(f"/admin/captures/capture/{capture.id}/reconcile/").content.decode()

    timeline = page[page.index('id="timeline"') :]
    first = timeline.index("delivery attempt 1 to archive: failed, tried again")
    second = timeline.index("delivery attempt 2 to archive: delivered")
    assert first < second
    assert f"127.0.0.1:{relay.port}" in timeline[first:second]


def test_each_try_is_exported_as_a_dicom_export_naming_its_destination(
    tmp_path: Path, relay: TcpProxy
) -> None:
    capture = delivered_at_the_second_try(tmp_path, relay)
    events = AuditEvent.objects.filter(
        capture=capture, action__in=("delivery.attempt", "delivery")
    ).order_by("id")

    resources = [audit_event_resource(event) for event in events]

    for resource in resources:
        FhirAuditEvent.model_validate(resource)
    assert [(r["type"]["code"], r["action"], r["outcome"]) for r in resources] == [
        ("110106", "R", Outcome.FAILED),
        ("110106", "R", Outcome.SUCCESS),
    ]
    for resource in resources:
        destination = resource["agent"][-1]
        assert destination["type"]["coding"][0]["code"] == "110152"
        assert (destination["who"]["display"], destination["requestor"]) == ("archive", False)
    assert "tried again later" in resources[0]["outcomeDesc"]
