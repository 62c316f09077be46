"""Destinations and rules in the admin, and a delivery re-sent from its list."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.delivery.models import Delivery, DeliveryStatus, Destination
from tests.hub.factories import browser_for, received_capture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/delivery/destination/",
        "/admin/delivery/destination/add/",
        "/admin/delivery/routingrule/",
        "/admin/delivery/routingrule/add/",
        "/admin/delivery/delivery/",
    ],
)
def test_an_admin_manages_destinations_and_rules(url: str) -> None:
    assert browser_for(Role.ADMIN).get(url).status_code == 200


def test_an_admin_adds_a_c_store_destination_from_the_form() -> None:
    response = browser_for(Role.ADMIN).post(
        "/admin/delivery/destination/add/",
        {
            "name": "derm-pacs",
            "kind": "c-store",
            "enabled": "on",
            "host": "127.0.0.1",
            "port": "11112",
            "called_aet": "DERMPACS",
            "timeout_seconds": "30",
            "verify_tls": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Destination.objects.get(name="derm-pacs").called_aet == "DERMPACS"


def test_a_failed_delivery_is_sent_again_from_the_deliveries_list(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    Destination.objects.create(name="share", kind="folder", folder=str(tmp_path))
    delivery = Delivery.objects.create(
        capture=capture, destination="share", status=DeliveryStatus.FAILED, attempts=10
    )

    response = browser_for(Role.OPERATOR).post(
        "/admin/delivery/delivery/",
        {"action": "resend", "_selected_action": [delivery.id]},
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
