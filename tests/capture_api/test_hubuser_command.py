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
