"""`manage.py hubuser NAME --role ROLE`: a user and a new API token, printed last."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.accounts.tokens import console_actor, token_issue, tokens_revoke_all
from hub.audit.services import audit_record

# Devices enroll with a one-time code (`manage.py hubdevice`); people get tokens here.
PERSON_ROLES = [role.value for role in Role if role is not Role.DEVICE]


class Command(BaseCommand):
    help = "Creates or updates a hub user with one role and prints a new API token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=PERSON_ROLES)
        parser.add_argument(
            "--rotate-token", action="store_true", help="revoke the user's other tokens first"
        )
        parser.add_argument(
            "--token-name", default="manage.py hubuser", help="what the token is for, in lists"
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read a password for the mobile app's sign-in from the first line of stdin",
        )

    def handle(
        self,
        *args: Any,
        username: str,
        role: str,
        rotate_token: bool,
        token_name: str,
        password_stdin: bool,
        **options: Any,
    ) -> None:
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        try:
            user = user_create_or_update(username=username, role=Role(role), password=password)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        console = console_actor()
        if rotate_token:
            for revoked in tokens_revoke_all(user=user):
                audit_record(
                    action="token.revoke",
                    actor_name=console,
                    entity=f"token:{revoked}",
                    note=f"of {user.username}, by manage.py hubuser --rotate-token",
                )
        token, key = token_issue(user=user, name=token_name)
        audit_record(
            action="token.issue",
            actor_name=console,
            entity=f"token:{token.token_key}",
            note=f"for {user.username} (role {role}), by manage.py hubuser",
        )
        self.stdout.write(
            f"user {user.username} has role {role}; new API token, valid until "
            f"{token.expiry:%Y-%m-%d %H:%M %Z} (send as 'Authorization: Token ...'):"
        )
        self.stdout.write(key)
