"""Sign-in lockout: N failures of one user lock it out of the token endpoint and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import AuditEvent, Outcome

PASSWORD = "a-long-ward-passphrase"
TOKEN = "/api/v1/auth/token"

pytestmark = pytest.mark.django_db


def sign_in(password: str, username: str = "nurse.al"):
    return APIClient().post(TOKEN, {"username": username, "password": password}, format="json")


@pytest.fixture(autouse=True)
def people() -> None:
    user_create_or_update(username="nurse.al", role=Role.CAPTURER, password=PASSWORD)
    user_create_or_update(username="nurse.bo", role=Role.CAPTURER, password=PASSWORD)
    user_create_or_update(username="imaging-it", role=Role.OPERATOR, password=PASSWORD)


def test_five_failures_lock_the_user_out_even_with_the_right_password() -> None:
    statuses = [sign_in("wrong").status_code for _ in range(4)]
    fifth = sign_in("wrong")
    right = sign_in(PASSWORD)

    assert statuses == [400] * 4
    assert fifth.status_code == 429
    assert right.status_code == 429
    error = right.json()["error"]
    assert (error["code"], error["field"], error["retryable"]) == (
        "sign_in_locked",
        "username",
        True,
    )
    assert 14 * 60 < int(right["Retry-After"]) <= 15 * 60


def test_the_lockout_is_per_user() -> None:
    for _ in range(5):
        sign_in("wrong")
    assert sign_in(PASSWORD, username="nurse.bo").status_code == 200


def test_the_numbers_come_from_the_settings(settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    settings.HUB_LOGIN_LOCKOUT_MINUTES = 1
    assert sign_in("wrong").status_code == 400
    locked = sign_in("wrong")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) <= 60


def test_the_lockout_ends_after_its_minutes() -> None:
    for _ in range(5):
        sign_in("wrong")
    assert sign_in(PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(PASSWORD).status_code == 200


def test_failures_on_the_admin_lock_the_user_out_of_the_admin_too() -> None:
    browser = Client()
    for _ in range(5):
        browser.post("/admin/login/?next=/admin/", {"username": "imaging-it", "password": "wrong"})
    locked = browser.post(
        "/admin/login/?next=/admin/", {"username": "imaging-it", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert sign_in(PASSWORD, username="imaging-it").status_code == 429
    # One event per try: the fifth failure locked the user out, the sixth was refused for it.
    refused = AuditEvent.objects.filter(action="sign-in", outcome=Outcome.REFUSED, entity="admin")
    assert refused.count() == 6
    assert refused.filter(note__endswith="locked out").count() == 2
