"""The capture's page tells its whole life, and what the client sent survives a correction."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import capture_move
from hub.pipeline.operators import capture_correct
from hub.workbench.timeline import capture_timeline, client_sent, identity_history
from tests.hub.factories import received_capture

SENT = {"patient": {"id": "MRN-TYPO", "name": "DOE^JANE", "birth_date": "1970-01-02"}}
RIGHT = {"patient": {"id": "MRN-0042", "name": "DOE^JANE", "birth_date": "1970-01-02"}}
WHY = "wristband re-scanned: the nurse typed a wrong digit"


def corrected_capture(tmp_path: Path) -> Capture:
    """Filed under a typo, failed, then corrected by an operator."""
    capture = received_capture(tmp_path, context=SENT)
    capture_move(capture.id, source=CaptureStatus.RECEIVED, target=CaptureStatus.FAILED, reason="x")
    operator = user_create_or_update(username="it-ops", role=Role.OPERATOR)
    capture_correct(capture_id=capture.id, actor=operator, context_data=RIGHT, note=WHY)
    capture.refresh_from_db()
    return capture


@pytest.mark.django_db
def test_a_correction_leaves_what_the_client_sent_and_adds_a_step_to_the_identity_history(
    tmp_path: Path,
) -> None:
    capture = corrected_capture(tmp_path)
    events = list(capture.audit_events.all())

    assert capture.context["patient"]["id"] == "MRN-0042"
    assert client_sent(capture, events)["patient"]["id"] == "MRN-TYPO"
    history = identity_history(capture, events)
    assert [(h.identity["patient id"], h.changed) for h in history] == [
        ("MRN-TYPO", ()),
        ("MRN-0042", ("patient id",)),
    ]
    assert (history[1].who, history[1].why) == ("it-ops", WHY)
    assert [m.what for m in capture_timeline(capture, events)] == [
        "received",
        "corrected (operator)",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_page_of_a_corrected_capture_shows_the_correction_and_what_the_client_sent(
    tmp_path: Path, admin_page
) -> None:
    capture = corrected_capture(tmp_path)
    page = admin_page(Role.OPERATOR)

    page.goto(f"/admin/captures/capture/{capture.id}/reconcile/")

    assert '"MRN-TYPO"' in page.locator("#client-sent").inner_text()
    rows = page.locator("#identity-history tr")
    assert rows.count() == 3  # the header, as sent, the correction
    correction = rows.nth(2).inner_text()
    assert "MRN-0042" in correction and "(changed)" in correction
    assert "it-ops" in correction and WHY in correction
    timeline = page.locator("#timeline").inner_text()
    assert "received" in timeline and "corrected (operator)" in timeline
    # The visit itself is on the record the timeline is built from.
    page.reload()
    assert "viewed" in page.locator("#timeline").inner_text()
