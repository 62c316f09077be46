"""Tokens issued and revoked at the console and in the admin are on record, with who did it."""

from __future__ import annotations

import getpass
from io import StringIO

import pytest
from django.core.management import call_command

from hub.accounts.models import HubToken
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.accounts.tokens import token_issue
from hub.audit.fhir import audit_event_resource
from hub.audit.models import AuditEvent
from tests.hub.factories import browser_for

pytestmark = pytest.mark.django_db


def trail(*actions: str) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(action__in=actions).values_list("action", "actor_name", "entity")
    )


def test_hubuser_records_the_token_it_issues_and_those_its_rotation_revokes() -> None:
    call_command("hubuser", "ann", "--role", "capturer", stdout=StringIO())
    first = HubToken.objects.get(user__username="ann").token_key
    call_command("hubuser", "ann", "--role", "capturer", "--rotate-token", stdout=StringIO())
    second = HubToken.objects.get(user__username="ann").token_key

    console = f"cli:{getpass.getuser()}"
    assert trail("token.issue", "token.revoke") == [
        ("token.issue", console, f"token:{first}"),
        ("token.revoke", console, f"token:{first}"),
        ("token.issue", console, f"token:{second}"),
    ]
    issued = AuditEvent.objects.filter(action="token.issue").first()
    assert issued is not None and "ann" in issued.note and issued.actor_id is None
    resource = audit_event_resource(issued)
    assert (resource["action"], resource["subtype"][0]["code"]) == ("C", "create")
    assert resource["agent"][0]["who"]["display"] == console


def test_hubdevice_records_the_enrollment_code_it_issues() -> None:
    call_command("hubdevice", "endo-tower-3", stdout=StringIO())

    assert trail("device.code.issue") == [
        ("device.code.issue", f"cli:{getpass.getuser()}", "device:endo-tower-3")
    ]


def test_an_admin_revoking_a_token_in_the_admin_is_on_record() -> None:
    nurse = user_create_or_update(username="nurse", role=Role.CAPTURER)
    token, _ = token_issue(user=nurse, name="ward phone")

    response = browser_for(Role.ADMIN).post(
        f"/admin/accounts/hubtoken/{token.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not HubToken.objects.filter(pk=token.pk).exists()
    (event,) = AuditEvent.objects.filter(action="token.revoke")
    assert (event.actor_name, event.entity, event.address) == (
        "user-admin",
        f"token:{token.token_key}",
        "127.0.0.1",
    )
