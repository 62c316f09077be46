"""Destinations and routing through the real stack: the session's Celery worker
sends by the rows and rules an operator made, to real peers (Orthanc's DIMSE
side for C-STORE, a folder for the export), one of them down for a while."""

from __future__ import annotations

import time
from pathlib import Path

import pydicom
import pytest

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery, DeliveryStatus, Destination, RoutingRule
from hub.pipeline.operators import capture_resend_to
from hub.pipeline.tasks import inspect_capture
from hub.workbench.timeline import capture_timeline
from tests.hub.factories import received_capture
from tests.integration.faults import wait_until
from tests.integration.worker import CeleryWorker
from tests.peers.orthanc import OrthancPeer
from tests.peers.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _pacs(orthanc: OrthancPeer, port: int | None = None) -> Destination:
    return Destination.objects.create(
        name="derm-pacs",
        kind="c-store",
        host="127.0.0.1",
        port=port or orthanc.dicom_port,
        called_aet=orthanc.aet,
        timeout_seconds=5,
    )


def _route(name: str, *destinations: Destination, **criteria: str) -> RoutingRule:
    rule = RoutingRule.objects.create(name=name, **criteria)
    rule.destinations.set(destinations)
    return rule


def _submitted(tmp_path: Path, patient_id: str, specialty: str = "dermatology") -> Capture:
    capture = received_capture(
        tmp_path / patient_id, context={"patient": {"id": patient_id}, "specialty": specialty}
    )
    inspect_capture.delay(str(capture.id))
    return capture


def _deliveries(capture: Capture) -> dict[str, str]:
    return dict(Delivery.objects.filter(capture=capture).values_list("destination", "status"))


def test_c_store_to_orthanc_by_a_routing_rule_and_nothing_to_the_unrouted_archive(
    hub_stack: OrthancPeer, celery_worker: CeleryWorker, tmp_path: Path, wait_for_status
) -> None:
    pacs = _pacs(hub_stack)
    _route("dermatology to its PACS", pacs, specialty="dermatology")

    capture = _submitted(tmp_path, "CS-1")
    archived = wait_for_status(str(capture.id), CaptureStatus.ARCHIVED, timeout=90)

    assert _deliveries(archived) == {"derm-pacs": DeliveryStatus.DELIVERED}
    assert hub_stack.find_instance(archived.sop_instance_uid) is not None
    assert f"capture {capture.id} delivered to derm-pacs" in celery_worker.log_path.read_text()


def test_folder_export_writes_each_instance_whole_under_its_uids(
    hub_stack: OrthancPeer, tmp_path: Path, wait_for_status
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    folder = Destination.objects.create(name="teaching-share", kind="folder", folder=str(share))
    _route("everything to the share", folder)

    capture = _submitted(tmp_path, "FE-1", specialty="wound")
    archived = wait_for_status(str(capture.id), CaptureStatus.ARCHIVED, timeout=90)

    written = share / archived.study_instance_uid / archived.series_instance_uid
    files = sorted(written.iterdir())
    assert [f.name for f in files] == [f"{archived.sop_instance_uid}.dcm"]
    ds = pydicom.dcmread(files[0])
    assert ds.SOPInstanceUID == archived.sop_instance_uid
    assert not list(share.rglob(".partial-*"))
    assert _deliveries(archived) == {"teaching-share": DeliveryStatus.DELIVERED}


def test_one_capture_to_two_destinations_one_down_for_a_while_is_archived_once_both_have_it(
    hub_stack: OrthancPeer, tmp_path: Path, wait_for_status
) -> None:
    relay = TcpProxy(hub_stack.dicom_port)
    relay.refusing = True  # the PACS is down
    relay.start()
    try:
        share = tmp_path / "share"
        share.mkdir()
        folder = Destination.objects.create(name="vna-share", kind="folder", folder=str(share))
        pacs = _pacs(hub_stack, port=relay.port)
        _route("dermatology to the VNA and its PACS", folder, pacs, specialty="dermatology")
        _route("endoscopy to the VNA only", folder, specialty="endoscopy")

        capture = _submitted(tmp_path, "TW-1")
        wait_until(
            lambda: (
                _deliveries(capture).get("vna-share") == DeliveryStatus.DELIVERED
                and Delivery.objects.filter(
                    capture=capture, destination="derm-pacs", attempts__gte=2
                )
                .exclude(status=DeliveryStatus.DELIVERED)
                .exists()
            ),
            timeout=90,
            what="the share has it and the PACS is being retried",
        )
        assert Capture.objects.get(id=capture.id).status == CaptureStatus.DELIVERING

        time.sleep(3)  # still down for a while
        relay.refusing = False
        archived = wait_for_status(str(capture.id), CaptureStatus.ARCHIVED, timeout=90)

        assert _deliveries(archived) == {
            "vna-share": DeliveryStatus.DELIVERED,
            "derm-pacs": DeliveryStatus.DELIVERED,
        }
        assert hub_stack.find_instance(archived.sop_instance_uid) is not None
        # The worker put each try on record: the timeline has one line per try.
        tries = [
            m.what
            for m in capture_timeline(archived, list(archived.audit_events.all()))
            if m.what.startswith("delivery attempt")
        ]
        pacs_tries = [t for t in tries if " to derm-pacs: " in t]
        attempts = Delivery.objects.get(capture=capture, destination="derm-pacs").attempts
        assert pacs_tries == [
            *(
                f"delivery attempt {n} to derm-pacs: failed, tried again"
                for n in range(1, attempts)
            ),
            f"delivery attempt {attempts} to derm-pacs: delivered",
        ]
        assert "delivery attempt 1 to vna-share: delivered" in tries
    finally:
        relay.stop()


def test_a_rule_change_sends_nothing_again_and_an_operator_resends_one_capture_to_one_place(
    hub_stack: OrthancPeer, tmp_path: Path, wait_for_status
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    folder = Destination.objects.create(name="share", kind="folder", folder=str(share))
    rule = _route("to the share", folder)
    capture = _submitted(tmp_path, "RC-1")
    archived = wait_for_status(str(capture.id), CaptureStatus.ARCHIVED, timeout=90)
    exported = next(share.rglob("*.dcm"))
    first_write = exported.stat().st_mtime_ns

    # The rule now names the PACS instead: what was delivered is not sent again.
    rule.destinations.set([_pacs(hub_stack)])
    time.sleep(8)  # more than a sweep of the worker
    assert _deliveries(archived) == {"share": DeliveryStatus.DELIVERED}
    assert exported.stat().st_mtime_ns == first_write

    # An operator re-sends it to the PACS only.
    capture_resend_to(capture_id=capture.id, destination="derm-pacs")
    wait_until(
        lambda: _deliveries(archived).get("derm-pacs") == DeliveryStatus.DELIVERED,
        timeout=60,
        what="the re-send to the PACS",
    )
    assert exported.stat().st_mtime_ns == first_write
    assert Capture.objects.get(id=capture.id).status == CaptureStatus.ARCHIVED
