"""Operators reconcile unmatched captures: assign, choose a candidate, reject; all audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent
from hub.captures.models import Capture, CaptureStatus
from hub.matching.reconcile import ReconcileRefused, capture_reassign, capture_reject
from hub.matching.services import capture_match
from hub.pipeline.operators import capture_choose_and_match
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import Hospital
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return user_create_or_update(username="it-ops", role=Role.OPERATOR)


def unmatched(tmp_path: Path, loaded: Hospital) -> Capture:
    """John has one open order and no current encounter: the order is a candidate."""
    capture = received_capture(
        tmp_path,
        context={"patient": {"id": loaded.mrns["john"], "birth_date": "1955-12-31"}},
        inspected=True,
    )
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
    return capture


def test_choosing_a_candidate_files_the_capture_under_it(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, operator, django_capture_on_commit_callbacks
) -> None:
    capture = unmatched(tmp_path, loaded)
    (candidate,) = capture.match_report["candidates"]

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        capture_choose_and_match(
            capture_id=capture.id, actor=operator, candidate_id=candidate["id"]
        )
    capture_match(capture_id=capture.id)

    capture.refresh_from_db()
    assert len(enqueued) == 1  # matching starts again once committed
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["order"]["accession_number"] == loaded.accessions["john_endo"]
    event = AuditEvent.objects.get(capture=capture, action="reassigned")
    assert event.actor == operator
    assert event.before["order"] is None
    assert event.after["order"]["service_request"] == candidate["id"]


def test_a_reassignment_is_checked_against_the_emr_again(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, operator
) -> None:
    capture = unmatched(tmp_path, loaded)
    wrong = {**capture.context, "order": {"accession_number": loaded.accessions["jane_wound"]}}

    capture_reassign(capture_id=capture.id, actor=operator, context_data=wrong)
    capture_match(capture_id=capture.id)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
    assert "no active order" in capture.reason


def test_reject_needs_a_reason_and_keeps_the_original(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, operator
) -> None:
    capture = unmatched(tmp_path, loaded)
    with pytest.raises(ReconcileRefused):
        capture_reject(capture_id=capture.id, actor=operator, reason=" ")

    capture_reject(capture_id=capture.id, actor=operator, reason="test shot of the wall")

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.REJECTED
    assert "test shot of the wall" in capture.reason
    assert AuditEvent.objects.filter(capture=capture, action="rejected", actor=operator).exists()


def test_only_unmatched_captures_are_reassigned(tmp_path: Path, operator) -> None:
    capture = received_capture(tmp_path)
    with pytest.raises(ReconcileRefused, match="not unmatched"):
        capture_reassign(capture_id=capture.id, actor=operator, context_data=capture.context)


def test_the_reconcile_page_shows_both_sides_and_acts(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, operator
) -> None:
    capture = unmatched(tmp_path, loaded)
    browser = Client()
    browser.force_login(operator)
    url = f"/admin/captures/capture/{capture.id}/reconcile/"

    page = browser.get(url)
    thumb = browser.get(url + "thumbnail/")
    posted = browser.post(url, {"action": "reject", "reason": "duplicate"})

    assert page.status_code == 200
    assert b"Roe^John" in page.content  # what the EMR holds
    assert loaded.accessions["john_endo"].encode() in page.content  # the candidate
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert posted.status_code == 302
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.REJECTED


def test_capturers_cannot_reach_the_reconcile_page(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    nurse = user_create_or_update(username="nurse-x", role=Role.CAPTURER)
    browser = Client()
    browser.force_login(nurse)

    response = browser.get(f"/admin/captures/capture/{capture.id}/reconcile/")

    assert response.status_code == 302  # to the admin login
    assert json.dumps(capture.context)  # nothing changed
