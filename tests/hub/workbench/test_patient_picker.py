"""Reassigning through the patient picker: look the patient up, see both identities, confirm."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent
from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Withdrawal
from hub.matching.services import capture_match
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import Hospital
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return user_create_or_update(username="it-ops", role=Role.OPERATOR)


@pytest.fixture
def browser(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def unmatched_photo_of_nobody(tmp_path: Path) -> Capture:
    """The nurse typed an MRN the EMR does not know: the capture waits for an operator."""
    capture = received_capture(
        tmp_path,
        context={"patient": {"id": "MRN-TYPO", "birth_date": "1970-01-02"}},
        inspected=True,
    )
    capture_match(capture_id=capture.id)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
    return capture


def page_url(capture: Capture) -> str:
    return f"/admin/captures/capture/{capture.id}/reconcile/"


def test_looking_up_an_mrn_shows_the_new_identity_beside_the_current_one_and_the_choices(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, browser: Client
) -> None:
    capture = unmatched_photo_of_nobody(tmp_path)

    page = browser.get(page_url(capture), {"mrn": loaded.mrns["jane"]}).content.decode()

    assert 'id="identities"' in page
    assert "MRN-TYPO" in page and loaded.mrns["jane"] in page  # both identities
    assert "Doe^Jane^Q" in page and "1970-01-02" in page
    assert loaded.accessions["jane_wound"] in page and loaded.accessions["jane_derm"] in page
    assert "no order or encounter" in page
    assert 'name="confirm"' in page and 'name="reason"' in page


def test_an_mrn_the_emr_does_not_know_says_so_and_offers_nothing_to_pick(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, browser: Client
) -> None:
    capture = unmatched_photo_of_nobody(tmp_path)

    page = browser.get(page_url(capture), {"mrn": "MRN-NOBODY"}).content.decode()

    assert "no active patient has the MRN MRN-NOBODY" in page
    assert 'id="pick"' not in page


def test_picking_an_order_with_a_reason_files_the_capture_and_audits_it(
    tmp_path: Path,
    emr: FhirEngine,
    loaded: Hospital,
    browser: Client,
    operator,
    django_capture_on_commit_callbacks,
) -> None:
    capture = unmatched_photo_of_nobody(tmp_path)
    picker = browser.get(page_url(capture), {"mrn": loaded.mrns["jane"]}).context["picker"]
    order = next(
        o["id"] for o in picker.orders if o["accession_number"] == loaded.accessions["jane_wound"]
    )

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        posted = browser.post(
            page_url(capture),
            {
                "action": "pick",
                "mrn": loaded.mrns["jane"],
                "choice": order,
                "reason": "wristband re-scanned at the bedside",
                "confirm": "on",
            },
        )
    capture_match(capture_id=capture.id)

    assert posted.status_code == 302
    assert len(enqueued) == 1  # the match step is started once committed
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.MATCHED, capture.reason
    assert capture.context["patient"]["id"] == loaded.mrns["jane"]
    assert capture.context["order"]["accession_number"] == loaded.accessions["jane_wound"]
    event = AuditEvent.objects.get(capture=capture, action="reassigned")
    assert event.actor == operator
    assert event.note == "wristband re-scanned at the bedside"
    assert event.before["patient"]["id"] == "MRN-TYPO"


@pytest.mark.parametrize("missing", ["confirm", "reason"])
def test_without_a_confirmation_or_a_reason_nothing_changes(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, browser: Client, missing: str
) -> None:
    capture = unmatched_photo_of_nobody(tmp_path)
    data = {
        "action": "pick",
        "mrn": loaded.mrns["jane"],
        "choice": "none",
        "reason": "wristband re-scanned",
        "confirm": "on",
    }
    del data[missing]

    page = browser.post(page_url(capture), data)

    assert page.status_code == 200
    assert f"{missing}: this field is required." in page.content.decode().lower()
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.UNMATCHED
    assert capture.context["patient"]["id"] == "MRN-TYPO"
    assert not AuditEvent.objects.filter(capture=capture, action="reassigned").exists()


def test_picking_for_an_archived_capture_corrects_it_and_plans_the_withdrawal(
    tmp_path: Path, emr: FhirEngine, loaded: Hospital, browser: Client
) -> None:
    capture = unmatched_photo_of_nobody(tmp_path)
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.ARCHIVED)
    capture.instances.create(
        sop_instance_uid=capture.sop_instance_uid,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
        transfer_syntax_uid="1.2.840.10008.1.2.4.50",
        path="dicom/old.dcm",
        size=1,
        sha256="0" * 64,
    )

    posted = browser.post(
        page_url(capture),
        {
            "action": "pick",
            "mrn": loaded.mrns["john"],
            "choice": "none",
            "reason": "filed under the wrong patient",
            "confirm": "on",
        },
    )

    assert posted.status_code == 302
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.INSPECTED
    assert capture.context["patient"]["id"] == loaded.mrns["john"]
    withdrawal = Withdrawal.objects.get(capture=capture)
    assert withdrawal.reason == "PATIENT_SAFETY"
