"""`manage.py hubuser NAME --role ROLE`: a user and the API token it signs in with."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update


class Command(BaseCommand):
    help = "Creates or updates a hub user with one role and prints its API token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument(
            "--rotate-token", action="store_true", help="replace an existing token with a new one"
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
        password_stdin: bool,
        **options: Any,
    ) -> None:
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        try:
            user = user_create_or_update(username=username, role=Role(role), password=password)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if rotate_token:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        self.stdout.write(
            f"user {user.username} has role {role}; "
            f"{'new' if created else 'existing'} API token (send as 'Authorization: Token ...'):"
        )
        self.stdout.write(token.key)
