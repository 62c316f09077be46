from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from knox.crypto import hash_token

from hub.accounts.models import HubToken
from hub.accounts.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def hubuser(*args: str) -> str:
    out = StringIO()
    call_command("hubuser", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


PEOPLE = [role for role in Role if role is not Role.DEVICE]


@pytest.mark.parametrize("role", PEOPLE)
def test_hubuser_prints_a_new_token_last_stored_only_as_its_digest(role: Role) -> None:
    token = hubuser("ann", "--role", role.value)

    found = HubToken.objects.get(digest=hash_token(token))
    assert found.user.username == "ann"
    assert found.expiry is not None
    assert not HubToken.objects.filter(digest=token).exists()
    assert user_roles(found.user) == ({role} if role is not Role.ADMIN else set(Role))


def test_hubuser_adds_a_token_and_rotation_revokes_the_others() -> None:
    first = hubuser("ann", "--role", "capturer")
    second = hubuser("ann", "--role", "operator")
    assert second != first
    assert HubToken.objects.filter(user__username="ann").count() == 2
    hubuser("ann", "--role", "operator", "--rotate-token")
    assert HubToken.objects.filter(user__username="ann").count() == 1


def test_hubuser_gives_no_token_to_a_device_role() -> None:
    with pytest.raises(CommandError):
        call_command("hubuser", "tower", "--role", "device")


def test_hubuser_refuses_an_unknown_role() -> None:
    with pytest.raises(CommandError):
        call_command("hubuser", "ann", "--role", "surgeon")


def test_a_password_from_stdin_lets_the_user_sign_in_for_a_token(monkeypatch, client) -> None:
    monkeypatch.setattr("sys.stdin", StringIO("correct horse battery staple\n"))
    token = hubuser("ann", "--role", "capturer", "--password-stdin")

    good = client.post(
        "/api/v1/auth/token",
        {"username": "ann", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    bad = client.post(
        "/api/v1/auth/token",
        {"username": "ann", "password": "wrong"},
        content_type="application/json",
    )

    assert good.status_code == 200
    assert set(good.json()) == {"token", "token_key", "expiry"}
    assert good.json()["token"] != token  # a sign-in is a token of its own
    assert bad.status_code == 400


def test_a_weak_password_is_refused(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("hubuser", "ann", "--role", "capturer", "--password-stdin")
