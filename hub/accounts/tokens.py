"""API tokens: issued per device or app sign-in, expiring, listed and revoked by their owner.

The key is shown once, when issued; the hub keeps its SHA-512 digest only
(django-rest-knox). Admins see and revoke everyone's tokens.
"""

from __future__ import annotations

import getpass
import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from hub.accounts.models import Device, HubToken, TokenKind
from hub.accounts.roles import Role, user_roles


def token_ttl(kind: TokenKind) -> timedelta:
    if kind == TokenKind.DEVICE:
        return timedelta(days=settings.HUB_DEVICE_TOKEN_TTL_DAYS)
    return timedelta(hours=settings.HUB_TOKEN_TTL_HOURS)


def token_issue(
    *,
    user: AbstractBaseUser,
    name: str = "",
    kind: TokenKind = TokenKind.SIGN_IN,
    device: Device | None = None,
) -> tuple[HubToken, str]:
    """A new token for `user` (the other tokens of the user stay valid); returns it and its key."""
    return HubToken.objects.create(
        user=user, expiry=token_ttl(kind), kind=kind, name=name[:120], device=device
    )


def tokens_visible(*, actor: AbstractBaseUser) -> QuerySet[HubToken]:
    """The actor's own unexpired tokens; an admin's view holds everyone's."""
    tokens = HubToken.objects.filter(expiry__gt=timezone.now()).select_related("user")
    if Role.ADMIN in user_roles(actor):
        return tokens
    return tokens.filter(user=actor)


def token_revoke(*, actor: AbstractBaseUser, token_key: str) -> list[HubToken]:
    """Revokes the actor's token (any token, for an admin) named by its `token_key`.

    Returns what was revoked: empty when no such token is visible to the actor.
    """
    found = list(tokens_visible(actor=actor).filter(token_key=token_key))
    HubToken.objects.filter(digest__in=[token.digest for token in found]).delete()
    return found


def tokens_revoke_all(*, user: AbstractBaseUser) -> list[str]:
    """Revokes every token of `user`; the `token_key`s revoked."""
    tokens = HubToken.objects.filter(user=user)
    keys = list(tokens.values_list("token_key", flat=True))
    tokens.delete()
    return keys


def console_actor() -> str:
    """Who runs a management command, for the audit trail: the OS user, as `cli:NAME`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for the uid (a bare container)
        return f"cli:uid-{os.getuid()}"
