"""Per-device tokens: hashed, expiring, listed and revoked one device at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from hub.accounts.models import HubToken
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update

PASSWORD = "a-long-ward-passphrase"
CAPTURES = "/api/v1/captures"

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse() -> object:
    return user_create_or_update(username="nurse.al", role=Role.CAPTURER, password=PASSWORD)


def sign_in(device_name: str, username: str = "nurse.al") -> str:
    response = APIClient().post(
        "/api/v1/auth/token",
        {"username": username, "password": PASSWORD, "device_name": device_name},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_each_sign_in_is_its_own_token_stored_only_as_a_digest(nurse: object) -> None:
    phone, tablet = sign_in("ward phone"), sign_in("ward tablet")

    assert phone != tablet
    stored = {token.name: token for token in HubToken.objects.filter(user=nurse)}
    assert set(stored) == {"ward phone", "ward tablet"}
    assert stored["ward phone"].digest == hash_token(phone)
    assert not HubToken.objects.filter(digest__in=[phone, tablet]).exists()
    assert not HubToken.objects.filter(token_key=phone).exists()  # only its 15-character prefix


def test_a_token_past_its_expiry_gets_401(nurse: object) -> None:
    token = sign_in("ward phone")
    assert client_with(token).get(CAPTURES).status_code == 200

    HubToken.objects.filter(digest=hash_token(token)).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )

    response = client_with(token).get(CAPTURES)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_token_expires_after_the_configured_hours(nurse: object, settings) -> None:
    settings.HUB_TOKEN_TTL_HOURS = 3
    before = timezone.now()
    token = HubToken.objects.get(digest=hash_token(sign_in("ward phone")))
    assert timedelta(hours=3) <= token.expiry - before < timedelta(hours=3, minutes=1)


def test_the_owner_lists_their_tokens_without_keys_and_sees_which_is_current(
    nurse: object,
) -> None:
    phone, _ = sign_in("ward phone"), sign_in("ward tablet")

    listed = client_with(phone).get("/api/v1/auth/tokens").json()

    assert {(t["name"], t["current"]) for t in listed} == {
        ("ward phone", True),
        ("ward tablet", False),
    }
    assert all(phone not in str(t.values()) for t in listed)


def test_revoking_one_device_gives_it_401_and_the_other_keeps_working(nurse: object) -> None:
    phone, tablet = sign_in("ward phone"), sign_in("ward tablet")
    tablet_key = HubToken.objects.get(name="ward tablet").token_key

    revoked = client_with(phone).delete(f"/api/v1/auth/tokens/{tablet_key}")

    assert revoked.status_code == 204
    assert client_with(tablet).get(CAPTURES).status_code == 401
    assert client_with(phone).get(CAPTURES).status_code == 200


def test_nobody_but_an_admin_revokes_someone_elses_token(nurse: object) -> None:
    sign_in("ward phone")
    key = HubToken.objects.get(name="ward phone").token_key
    user_create_or_update(username="other", role=Role.OPERATOR, password=PASSWORD)
    user_create_or_update(username="root", role=Role.ADMIN, password=PASSWORD)

    by_other = client_with(sign_in("desk", username="other")).delete(f"/api/v1/auth/tokens/{key}")
    assert by_other.status_code == 404
    assert HubToken.objects.filter(token_key=key).exists()

    admin = client_with(sign_in("desk", username="root"))
    assert key in {t["token_key"] for t in admin.get("/api/v1/auth/tokens").json()}
    assert admin.delete(f"/api/v1/auth/tokens/{key}").status_code == 204
    assert not HubToken.objects.filter(token_key=key).exists()
