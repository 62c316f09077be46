"""The admin's enrollment page: the one-time code, the agent's command and a QR code of both."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest

from hub.accounts.devices import (
    device_create,
    device_enroll,
    enrollment_qr_png,
    enrollment_uri,
)
from hub.accounts.roles import Role
from hub.audit.models import AuditEvent
from tests.hub.factories import browser_for

pytestmark = pytest.mark.django_db

# Digits to code letters, so that the generated codes use the whole alphabet's shapes.
SHUFFLE = str.maketrans("0123456789", "0K4HX9TQ2B")


def qr_payloads(html: str) -> list[str]:
    """What each QR code image on the page decodes to (OpenCV's ArUco-based detector)."""
    found = []
    for encoded in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        image = cv2.imdecode(
            np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_GRAYSCALE
        )
        # OpenCV's classic QRCodeDetector misreads about one symbol in seven of those with
        # mask pattern 2 (valid symbols: its ArUco-based detector reads 300 of 300).
        text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
        found.append(text)
    return found


def test_the_enrollment_uri_holds_the_hub_and_the_code_percent_encoded() -> None:
    uri = enrollment_uri(hub_url="https://hub.example/a b/", code="ABCDE12345")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("capturehub", "enroll")
    assert parse_qs(parts.query) == {"hub": ["https://hub.example/a b/"], "code": ["ABCDE12345"]}


def test_every_code_s_qr_image_decodes_to_its_uri() -> None:
    uris = [
        enrollment_uri(hub_url="https://hub.example.org", code=f"{n:010d}".translate(SHUFFLE))
        for n in range(0, 10**10, 10**10 // 60)
    ]
    html = "".join(f'<img src="{enrollment_qr_png(uri)}">' for uri in uris)
    assert qr_payloads(html) == uris


def test_the_admin_shows_a_code_whose_qr_decodes_to_the_hub_and_that_code(settings) -> None:
    settings.HUB_PUBLIC_URL = "https://hub.example.org"
    tower = device_create(name="endo-tower-3", created_by=None)

    page = browser_for(Role.ADMIN).post(
        "/admin/accounts/device/",
        {"action": "issue_enrollment_code", "_selected_action": [str(tower.pk)]},
    )

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    (code,) = re.findall(r'class="enrollment-code">([0-9A-Z]{10})<', html)
    assert f"python -m mobile_client.agent enroll {code} --hub https://hub.example.org" in html
    (payload,) = qr_payloads(html)
    assert parse_qs(urlsplit(payload).query) == {
        "hub": ["https://hub.example.org"],
        "code": [code],
    }
    event = AuditEvent.objects.get(action="device.code.issue")
    assert (event.actor_name, event.entity) == ("user-admin", "device:endo-tower-3")
    # The code shown is the one that works, once.
    token, _ = device_enroll(code=code)
    assert token.device == tower
