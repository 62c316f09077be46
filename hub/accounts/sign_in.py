"""Signing in with a user name and password, for a token; locked out after repeated failures.

django-axes counts the failures per user name (HUB_LOGIN_FAILURE_LIMIT within
HUB_LOGIN_LOCKOUT_MINUTES) on the token endpoint and the admin alike; while
locked out, even the right password is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from hub.accounts.models import HubToken
from hub.accounts.roles import user_is_device
from hub.accounts.tokens import token_issue
from hub.audit.models import Outcome
from hub.audit.services import audit_record


class SignInRefused(Exception):
    """The user name and password do not match an active person's."""


@dataclass
class SignInLocked(Exception):
    """Too many failures: no sign-in for this user for `retry_after` seconds."""

    retry_after: int


def user_sign_in(
    *, request: HttpRequest, username: str, password: str, name: str = ""
) -> tuple[HubToken, str]:
    """A new token for the person, or SignInRefused / SignInLocked.

    `request` is Django's (axes reads the address and records the attempt).
    Devices never sign in with a password: they enroll.
    """
    credentials = {"username": username}
    if AxesProxyHandler.is_locked(request, credentials):
        raise SignInLocked(retry_after=lockout_remaining_seconds(username))
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        if AxesProxyHandler.is_locked(request, credentials):
            # The caller answers the lockout (the API, in its envelope), not axes' middleware.
            request.axes_locked_out = False  # type: ignore[attr-defined]
            raise SignInLocked(retry_after=lockout_remaining_seconds(username))
        raise SignInRefused("the user name or password is wrong")
    if user_is_device(user):
        raise SignInRefused("the user name or password is wrong")
    return token_issue(user=user, name=name)


def lockout_remaining_seconds(username: str) -> int:
    """Seconds until the lockout of `username` ends (at least 1)."""
    latest = AccessAttempt.objects.filter(username=username).order_by("-attempt_time").first()
    lockout = settings.HUB_LOGIN_LOCKOUT_MINUTES * 60
    if latest is None:
        return lockout
    elapsed = (timezone.now() - latest.attempt_time).total_seconds()
    return max(1, math.ceil(lockout - elapsed))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in outside the API (the admin): 429, Retry-After."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    wait = lockout_remaining_seconds(str(username))
    # A try the admin's sign-in form saw is on record already (hub.accounts.admin).
    if not getattr(request, "hub_sign_in_audited", False):
        audit_record(
            action="sign-in",
            actor=AnonymousUser(),
            entity="admin",
            address=request.META.get("REMOTE_ADDR"),
            outcome=Outcome.REFUSED,
            note=f"admin, as {str(username)!r}: locked out",
        )
    response = HttpResponse(
        f"Too many failed sign-ins for this user: try again in {math.ceil(wait / 60)} minutes.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(wait)
    return response
