"""axe-core's WCAG 2.2 AA rules on the operator's pages: the capture list, a capture's
page (timeline, identity history) and the patient picker, in Chromium: no violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.captures.models import CaptureStatus
from hub.matching.services import capture_match
from tests.axe import axe_violations, describe
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import Hospital
from tests.hub.workbench.test_timeline import corrected_capture
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_capture_list_and_its_filters(tmp_path: Path, admin_page) -> None:
    received_capture(
        tmp_path / "a",
        context={"patient": {"id": "MRN-0042", "name": "DOE^JANE"}, "specialty": "wound"},
    )
    received_capture(tmp_path / "b", patient_id="MRN-0077")
    page = admin_page(Role.OPERATOR)

    page.goto("/admin/captures/capture/")
    page.wait_for_selector("#result_list")

    assert axe_violations(page) == [], describe(axe_violations(page))
    page.goto("/admin/captures/capture/?identity=unverified&q=MRN-0042")
    assert axe_violations(page) == [], describe(axe_violations(page))


def test_a_corrected_captures_pages_its_timeline_and_its_record(tmp_path: Path, admin_page) -> None:
    capture = corrected_capture(tmp_path)
    page = admin_page(Role.OPERATOR)

    page.goto(f"/admin/captures/capture/{capture.id}/reconcile/")
    page.wait_for_selector("#timeline")

    assert axe_violations(page) == [], describe(axe_violations(page))
    page.goto(f"/admin/captures/capture/{capture.id}/change/")
    assert axe_violations(page) == [], describe(axe_violations(page))


def test_the_patient_picker_with_both_identities_and_the_choices(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, admin_page
) -> None:
    capture = received_capture(
        tmp_path,
        context={"patient": {"id": "MRN-TYPO", "birth_date": "1970-01-02"}},
        inspected=True,
    )
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
    page = admin_page(Role.OPERATOR)

    page.goto(f"/admin/captures/capture/{capture.id}/reconcile/?mrn={loaded.mrns['jane']}")
    page.wait_for_selector("#identities")

    assert axe_violations(page) == [], describe(axe_violations(page))
