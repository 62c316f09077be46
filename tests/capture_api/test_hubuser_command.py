from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from hub.accounts.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def hubuser(*args: str) -> str:
    out = StringIO()
    call_command("hubuser", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.mark.parametrize("role", list(Role))
def test_hubuser_prints_the_token_last(role: Role) -> None:
    token = hubuser("ann", "--role", role.value)

    found = Token.objects.get(key=token)
    assert found.user.username == "ann"
    assert user_roles(found.user) == ({role} if role is not Role.ADMIN else set(Role))


def test_hubuser_keeps_the_token_unless_asked_to_rotate() -> None:
    first = hubuser("ann", "--role", "capturer")
    assert hubuser("ann", "--role", "operator") == first
    assert hubuser("ann", "--role", "operator", "--rotate-token") != first


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
    assert good.json() == {"token": token}
    assert bad.status_code == 400


def test_a_weak_password_is_refused(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("hubuser", "ann", "--role", "capturer", "--password-stdin")
