"""Optional single sign-on for staff (OpenID Connect, mozilla-django-oidc): off by default.

On when HUB_OIDC_CLIENT_ID is set (docs/security.md). The provider's user is
the hub user `oidc:CLAIM` (HUB_OIDC_USERNAME_CLAIM, `sub` by default: a local
user of the same name is never taken over), with the one role its
HUB_OIDC_ROLES_CLAIM values map to through HUB_OIDC_ROLE_MAP, set again at
every sign-in. Only staff roles map (operator, admin): the provider's user
with none gets no access, and no hub user is made for it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.audit.models import Outcome
from hub.audit.services import audit_record

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.ADMIN, Role.OPERATOR)  # the first that maps wins
USERNAME_PREFIX = "oidc:"


def oidc_enabled() -> bool:
    return bool(settings.HUB_OIDC_CLIENT_ID)


def oidc_setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, from the hub's HUB_OIDC_* (read at each use)."""
    hub = {
        "OIDC_RP_CLIENT_ID": settings.HUB_OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.HUB_OIDC_CLIENT_SECRET,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": settings.HUB_OIDC_AUTHORIZATION_URL,
        "OIDC_OP_TOKEN_ENDPOINT": settings.HUB_OIDC_TOKEN_URL,
        "OIDC_OP_USER_ENDPOINT": settings.HUB_OIDC_USERINFO_URL,
        "OIDC_OP_JWKS_ENDPOINT": settings.HUB_OIDC_JWKS_URL,
        "OIDC_RP_SIGN_ALGO": settings.HUB_OIDC_SIGN_ALGO,
        "OIDC_RP_SCOPES": settings.HUB_OIDC_SCOPES,
        "OIDC_USE_PKCE": True,
        "OIDC_CREATE_USER": True,
        "LOGIN_REDIRECT_URL": "/admin/",
        "LOGIN_REDIRECT_URL_FAILURE": "/admin/login/?sso=refused",
    }
    if attr in hub:
        return hub[attr]
    return import_from_settings(attr, *default)


def claimed_role(claims: dict[str, Any]) -> Role | None:
    """The staff role the provider's claim maps to (the highest, if several), or None."""
    values = claims.get(settings.HUB_OIDC_ROLES_CLAIM) or []
    if isinstance(values, str):
        values = values.split()
    mapped = {settings.HUB_OIDC_ROLE_MAP.get(str(value)) for value in values}
    return next((role for role in STAFF_ROLES if role.value in mapped), None)


def claimed_username(claims: dict[str, Any]) -> str:
    name = str(claims.get(settings.HUB_OIDC_USERNAME_CLAIM) or "")
    if not name:
        raise SuspiciousOperation(f"the provider sent no {settings.HUB_OIDC_USERNAME_CLAIM} claim")
    return f"{USERNAME_PREFIX}{name}"[:150]


class HubOidcBackend(OIDCAuthenticationBackend):
    """Users by their claimed name, roles by the mapped claim; every sign-in on record."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if oidc_enabled():
            super().__init__(*args, **kwargs)
        else:  # listed always, answering no one while single sign-on is off
            self.UserModel = get_user_model()

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        # A session signed on while single sign-on was on ends when it is turned off.
        return super().get_user(user_id) if oidc_enabled() else None

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return claimed_role(claims) is not None

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(username=claimed_username(claims))

    def create_user(self, claims: dict[str, Any]) -> AbstractBaseUser:
        return self.update_user(None, claims)

    def update_user(
        self, user: AbstractBaseUser | None, claims: dict[str, Any]
    ) -> AbstractBaseUser:
        role = claimed_role(claims)
        assert role is not None  # verify_claims let it through
        return user_create_or_update(username=claimed_username(claims), role=role)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        try:
            return super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation as refused:
            who = payload.get(settings.HUB_OIDC_USERNAME_CLAIM) or payload.get("sub") or "?"
            self._refusal = (
                f"{who!r}: {refused}; no hub role in the {settings.HUB_OIDC_ROLES_CLAIM} claim"
            )
            raise

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> AbstractBaseUser | None:
        if request is None or not oidc_enabled() or "code" not in request.GET:
            return None  # a password sign-in, or single sign-on is off
        self._refusal = ""
        user = super().authenticate(request, **kwargs)
        audit_record(
            action="sign-in",
            actor=user if user is not None else AnonymousUser(),
            entity="oidc",
            address=request.META.get("REMOTE_ADDR"),
            outcome=Outcome.SUCCESS if user is not None else Outcome.REFUSED,
            note="single sign-on (OIDC)" if user is not None else f"OIDC, as {self._refusal}",
        )
        return user


class OidcSignIn(OIDCAuthenticationRequestView):
    """Sends the browser to the provider; 404 while single sign-on is off."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        return super().get(request)


class OidcCallback(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        return super().get(request)


# Mounted at /oidc/ by hub.urls; the callback's name is the one mozilla-django-oidc reverses.
urlpatterns = [
    path("authenticate/", OidcSignIn.as_view(), name="oidc_authentication_init"),
    path("callback/", OidcCallback.as_view(), name="oidc_authentication_callback"),
]
