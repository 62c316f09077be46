"""One capture's life on record: every access one event, with its actor, patient and address.

Upload, list and status reads, a look-up, the operator's thumbnail and
reconciliation page, matching and each delivery by the real stack (the hub
as actor), a correction;
then the same trail exported as FHIR AuditEvents (BALP) and as NDJSON. The
log output of the web side and the worker is scanned for the patient's name,
MRN and birth date on the way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent, Outcome
from hub.captures.models import Capture
from hub.pipeline.operators import capture_correct
from tests.conftest import api_client_for
from tests.hub.matching.fhir_fixtures import Hospital
from tests.integration.worker import CeleryWorker
from tests.media import make_jpeg
from tests.peers.fhir import FhirEngine
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def phi_found(text: str, hospital: Hospital) -> list[str]:
    """The fixture patients' MRNs, names and birth dates that occur in `text`."""
    needles = [*hospital.mrns.values(), "Doe^Jane", "DOE^JANE", "Roe^John", "1970-01-02"]
    lowered = text.lower()
    return [needle for needle in needles if needle.lower() in lowered]


def test_a_captures_life_is_on_record_one_event_per_access_and_no_phi_is_logged(
    hub_stack: OrthancPeer,
    celery_worker: CeleryWorker,
    emr: FhirEngine,
    loaded: Hospital,
    wait_for_status: Callable[..., Capture],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    worker_log_start = celery_worker.log_path.stat().st_size
    started = timezone.now() - timedelta(seconds=1)
    mrn = loaded.mrns["jane"]
    nurse = api_client_for("nurse", Role.CAPTURER)
    operator = user_create_or_update(username="imaging-it", role=Role.OPERATOR)
    browser = Client()
    browser.force_login(operator)

    found = nurse.post("/api/v1/patients/search", {"identifier": mrn}, format="json")
    assert found.status_code == 200
    photo = BytesIO(make_jpeg(tmp_path / "wound.jpg", width=320, height=240).read_bytes())
    photo.name = "wound.jpg"
    context = {"patient": {"id": mrn, "name": "DOE^JANE", "sex": "F"}, "specialty": "wound"}
    created = nurse.post(
        "/api/v1/captures", {"file": photo, "context": json.dumps(context)}, format="multipart"
    ).json()
    capture_id = created["id"]
    assert nurse.get(f"/api/v1/captures/{capture_id}").status_code == 200
    assert nurse.get("/api/v1/captures").status_code == 200
    wait_for_status(capture_id, "archived", timeout=90)
    thumbnail = browser.get(f"/admin/captures/capture/{capture_id}/reconcile/thumbnail/")
    assert thumbnail.status_code == 200
    assert browser.get(f"/admin/captures/capture/{capture_id}/reconcile/").status_code == 200
    capture_correct(capture_id=capture_id, actor=operator, context_data=context, note="ticket 7")
    wait_for_status(capture_id, "archived", timeout=90)

    events = list(AuditEvent.objects.filter(capture_id=capture_id))
    actions = Counter(event.action for event in events)
    print("\nevents of one capture's life:", dict(actions))
    by_action = {event.action: event for event in events}
    assert actions["capture.create"] == 1
    assert actions["capture.read"] == 3  # detail, list, reconciliation page
    assert actions["capture.media.read"] == 1
    assert by_action["capture.create"].actor_name == "nurse"
    assert by_action["capture.create"].address == "127.0.0.1"
    assert by_action["capture.media.read"].actor_name == "imaging-it"
    assert by_action["corrected"].actor_id == operator.id
    # The hub's own accesses: matched (before and after the correction), each
    # delivery's outcome to the one destination, the hub as actor.
    matched = [event for event in events if event.action == "matched"]
    deliveries = [event for event in events if event.action == "delivery"]
    assert len(matched) == 2 and len(deliveries) == 2
    assert all(e.actor_id is None and e.actor_name == "" for e in matched + deliveries)
    # The worker has no EMR of its own here: it matches the context as sent.
    assert all(e.note.startswith("matched by the context as sent") for e in matched)
    assert all(
        (e.outcome, e.entity) == (Outcome.SUCCESS, "destination:archive") for e in deliveries
    )
    assert all(event.patient == mrn for event in events)
    look_up = AuditEvent.objects.get(action="patient.search")
    assert (look_up.patient, look_up.actor_name, look_up.outcome) == (
        mrn,
        "nurse",
        Outcome.SUCCESS,
    )
    assert mrn not in look_up.entity

    admin = api_client_for("root", Role.ADMIN)
    bundle = admin.get("/api/v1/audit", {"since": started.isoformat()}).json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    resources = [entry["resource"] for entry in bundle["entry"]]
    for resource in resources:
        FhirAuditEvent.model_validate(resource)
    about_capture = [
        r
        for r in resources
        if any(
            e["what"].get("identifier", {}).get("value") == f"urn:uuid:{capture_id}"
            for e in r.get("entity", [])
        )
    ]
    assert len(about_capture) == len(events)
    kinds = {
        (r["type"]["code"], (r.get("subtype") or [{}])[0].get("code"), r["action"])
        for r in about_capture
    }
    assert {
        ("rest", "create", "C"),  # upload
        ("rest", "read", "R"),  # status read, thumbnail
        ("rest", "update", "U"),  # match, correction
        ("110106", None, "R"),  # delivery: DICOM Export
    } <= kinds
    assert all(
        e["what"]["display"].endswith(f"/api/v1/captures/{capture_id}")
        for r in about_capture
        for e in r["entity"][:1]
    )
    out = StringIO()
    call_command("audit_export", "--since", started.isoformat(), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == [r["id"] for r in resources][: len(lines)]
    assert len(lines) >= len(resources)

    worker_log = celery_worker.log_path.read_bytes()[worker_log_start:].decode(errors="replace")
    web_log = "\n".join(f"{record.name}: {record.getMessage()}" for record in caplog.records)
    assert phi_found(web_log, loaded) == [], [
        line for line in web_log.splitlines() if phi_found(line, loaded)
    ]
    assert phi_found(worker_log, loaded) == [], [
        line for line in worker_log.splitlines() if phi_found(line, loaded)
    ]


def test_a_failed_look_up_is_on_record_as_refused(
    emr: FhirEngine, loaded: Hospital, transactional_db: None
) -> None:
    nurse = api_client_for("nurse", Role.CAPTURER)
    assert (
        nurse.post("/api/v1/patients/orders", {"identifier": "NOBODY"}, format="json").status_code
        == 404
    )
    event = AuditEvent.objects.get(action="patient.orders")
    assert (event.patient, event.outcome, event.note) == (
        "NOBODY",
        Outcome.REFUSED,
        "patient_not_found",
    )


def test_sign_ins_and_failed_sign_ins_and_revocations_are_on_record(transactional_db: None) -> None:
    user_create_or_update(username="nurse.al", role=Role.CAPTURER, password="a-long-passphrase")
    client = APIClient()
    assert (
        client.post(
            "/api/v1/auth/token", {"username": "nurse.al", "password": "nope"}, format="json"
        ).status_code
        == 400
    )
    signed = client.post(
        "/api/v1/auth/token",
        {"username": "nurse.al", "password": "a-long-passphrase", "device_name": "ward phone"},
        format="json",
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {signed['token']}")
    assert client.delete(f"/api/v1/auth/tokens/{signed['token_key']}").status_code == 204

    trail = list(
        AuditEvent.objects.filter(action__in=["sign-in", "token.revoke"]).values_list(
            "action", "outcome", "actor_name", "entity"
        )
    )
    assert trail == [
        ("sign-in", Outcome.REFUSED, "anonymous", "/api/v1/auth/token"),
        ("sign-in", Outcome.SUCCESS, "nurse.al", f"token:{signed['token_key']}"),
        ("token.revoke", Outcome.SUCCESS, "nurse.al", f"token:{signed['token_key']}"),
    ]
