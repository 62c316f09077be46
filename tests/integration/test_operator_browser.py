"""The operator's work in Chromium: finding a capture, and refiling one through the picker."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import WithdrawalStatus
from tests.browser import chromium_module_fixture  # noqa: F401  (the fixture `chromium`)
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import Hospital
from tests.hub.workbench import conftest as workbench
from tests.integration.test_correction import archived_under_the_wrong_patient, wait_for_withdrawal
from tests.peers.fhir import FhirEngine
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
LIST = "/admin/captures/capture/"
admin_page = workbench.admin_page  # the fixture: a page signed in as a given role


def listed_rows(page) -> list[str]:
    """The change pages of the captures the change list shows, one per row."""
    rows = page.locator("#result_list tbody tr")
    links = [
        rows.nth(i).locator("a[href*='/change/']").first.get_attribute("href")
        for i in range(rows.count())
    ]
    return [link.partition("?")[0] for link in links]


def search(page, query: str) -> list[str]:
    page.fill("#searchbar", query)
    page.click("#changelist-search input[type='submit']")
    page.wait_for_load_state()
    return listed_rows(page)


def test_the_operator_finds_a_capture_by_mrn_and_by_family_name(tmp_path: Path, admin_page) -> None:
    jane = received_capture(
        tmp_path / "jane", context={"patient": {"id": "MRN-0042", "name": "Doe^Jane"}}
    )
    received_capture(  # another patient, who must not be listed
        tmp_path / "john", context={"patient": {"id": "MRN-0077", "name": "Roe^John"}}
    )
    page = admin_page(Role.OPERATOR)
    page.goto(LIST)
    assert len(listed_rows(page)) == 2

    by_mrn = search(page, "MRN-0042")
    by_name = search(page, "Doe")

    assert by_mrn == [f"{LIST}{jane.pk}/change/"]
    assert by_name == [f"{LIST}{jane.pk}/change/"]
    assert page.locator("#searchbar").input_value() == "Doe"


def test_refiling_an_archived_capture_through_the_picker_re_archives_it_under_the_right_patient(
    hub_stack: OrthancPeer,
    emr: FhirEngine,
    loaded: Hospital,
    capturer_client: APIClient,
    wait_for_status: Callable[..., Capture],
    admin_page,
    tmp_path: Path,
) -> None:
    created = archived_under_the_wrong_patient(
        hub_stack, capturer_client, wait_for_status, tmp_path
    )
    old_uid = created["dicom"]["sop_instance_uid"]
    right = loaded.mrns["jane"]
    page = admin_page(Role.OPERATOR)
    url = f"{LIST}{created['id']}/reconcile/"

    page.goto(url)
    page.fill("#mrn", right)
    page.click("#find-patient input[type='submit']")
    page.wait_for_load_state()
    identities = page.locator("#identities tr")
    assert identities.nth(1).inner_text().split() == ["MRN", "MRN-WRONG", right]
    assert "ROE^RICHARD" in identities.nth(2).inner_text()
    assert "Doe^Jane^Q" in identities.nth(2).inner_text()
    page.get_by_label("no order or encounter").check()
    page.fill("#reason", "filed under the wrong patient: wristband re-scanned")
    page.check("#confirm")
    page.click("#pick input[type='submit']")
    page.wait_for_url(f"**{LIST}")

    # The pick moved the capture back before the redirect: "archived" now is the new run.
    assert Capture.objects.get(id=created["id"]).context["patient"]["id"] == right
    capture = wait_for_status(created["id"], "archived", "failed", timeout=90)
    assert capture.status == CaptureStatus.ARCHIVED, capture.reason
    assert capture.sop_instance_uid != old_uid
    new_id = hub_stack.find_instance(capture.sop_instance_uid)
    assert new_id
    assert pydicom.dcmread(BytesIO(hub_stack.instance_file(new_id))).PatientID == right
    withdrawal = wait_for_withdrawal(created["id"])
    assert withdrawal.status == WithdrawalStatus.DONE, withdrawal.last_error
    assert hub_stack.find_instance(old_uid) is None
    page.goto(url)
    assert '"MRN-WRONG"' in page.locator("#client-sent").inner_text()
    assert right not in page.locator("#client-sent").inner_text()
