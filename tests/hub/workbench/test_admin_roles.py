"""What each role sees in the admin: operators see captures and may reconcile; capturers nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from tests.hub.factories import browser_for, received_capture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/captures/capture/",
        "/admin/delivery/delivery/",
        "/admin/delivery/withdrawal/",
        "/admin/audit/auditevent/",
    ],
)
def test_operators_see_the_hubs_records(url: str) -> None:
    assert browser_for(Role.OPERATOR).get(url).status_code == 200


def test_operators_see_a_capture_and_may_retry_but_not_delete(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    browser = browser_for(Role.OPERATOR)

    page = browser.get("/admin/captures/capture/")
    detail = browser.get(f"/admin/captures/capture/{capture.id}/change/")
    delete = browser.get(f"/admin/captures/capture/{capture.id}/delete/")

    assert str(capture.id).encode() in page.content
    assert b"retry_delivery" in page.content
    assert detail.status_code == 200
    assert delete.status_code == 403


def test_capturers_do_not_get_into_the_admin() -> None:
    response = browser_for(Role.CAPTURER).get("/admin/captures/capture/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", ["destination", "routingrule"])
def test_operators_manage_destinations_and_routing_rules_but_do_not_delete_them(
    model: str,
) -> None:
    browser = browser_for(Role.OPERATOR)

    assert browser.get(f"/admin/delivery/{model}/").status_code == 200
    assert browser.get(f"/admin/delivery/{model}/add/").status_code == 200
    operator = user_create_or_update(username=f"user-{Role.OPERATOR.value}", role=Role.OPERATOR)
    assert operator.has_perm(f"delivery.change_{model}")
    assert not operator.has_perm(f"delivery.delete_{model}")
