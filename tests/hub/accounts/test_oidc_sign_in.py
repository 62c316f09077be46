"""Staff sign in to the admin through a real OpenID Connect provider; unmapped users get nothing.

The provider is django-oauth-toolkit's (tests/peers/oidc.py), in a process of
its own with an RS256 key made for the run; the browser is a requests session
that follows the real authorize, sign-in and callback redirects, and the hub
trades the code at the provider's token endpoint and checks the ID token
against its JWKS.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from hub.accounts.oidc import claimed_role
from hub.accounts.roles import Role, user_roles
from hub.audit.models import AuditEvent, Outcome
from tests.peers.oidc import OidcProvider, ProviderUser

CLIENT_ID = "capture-hub"
CLIENT_SECRET = secrets.token_urlsafe(24)
PASSWORD = "a-long-provider-passphrase"


@pytest.fixture
def provider(tmp_path: Path, live_server) -> Iterator[OidcProvider]:
    with OidcProvider(
        tmp_path / "oidc",
        users=[
            ProviderUser("dr.who", PASSWORD, ("staff", "imaging-it")),
            ProviderUser("visitor", PASSWORD, ("staff",)),
        ],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=f"{live_server.url}/oidc/callback/",
    ) as running:
        yield running


@pytest.fixture
def single_sign_on(settings, provider: OidcProvider) -> OidcProvider:
    found = provider.discovery
    settings.HUB_OIDC_CLIENT_ID = CLIENT_ID
    settings.HUB_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.HUB_OIDC_AUTHORIZATION_URL = found["authorization_endpoint"]
    settings.HUB_OIDC_TOKEN_URL = found["token_endpoint"]
    settings.HUB_OIDC_USERINFO_URL = found["userinfo_endpoint"]
    settings.HUB_OIDC_JWKS_URL = found["jwks_uri"]
    settings.HUB_OIDC_USERNAME_CLAIM = "preferred_username"
    settings.HUB_OIDC_ROLE_MAP = {"imaging-it": "operator", "hub-admins": "admin"}
    return provider


def sign_in(
    hub_url: str, provider: OidcProvider, username: str
) -> tuple[requests.Response, requests.Session]:
    """A browser's way: the hub, the provider's authorize and sign-in, the hub's callback."""
    browser = requests.Session()
    to_provider = browser.get(f"{hub_url}/oidc/authenticate/?next=/admin/", allow_redirects=False)
    assert to_provider.status_code == 302, to_provider.text[:500]
    assert to_provider.headers["Location"].startswith(provider.discovery["authorization_endpoint"])
    assert "code_challenge=" in to_provider.headers["Location"]  # PKCE
    to_login = browser.get(to_provider.headers["Location"], allow_redirects=False)
    login_url = urljoin(provider.base_url, to_login.headers["Location"])
    (after,) = parse_qs(urlsplit(login_url).query)["next"]
    signed = browser.post(
        login_url,
        data={"username": username, "password": PASSWORD, "next": after},
        allow_redirects=False,
    )
    assert signed.status_code == 302, signed.text
    return browser.get(urljoin(provider.base_url, signed.headers["Location"])), browser


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_operator_signs_in_to_the_admin_through_the_provider_with_the_mapped_role(
    live_server, single_sign_on: OidcProvider
) -> None:
    answer, browser = sign_in(live_server.url, single_sign_on, "dr.who")

    assert answer.status_code == 200 and urlsplit(answer.url).path == "/admin/"
    assert "Site administration" in answer.text
    assert browser.get(f"{live_server.url}/admin/captures/capture/").status_code == 200
    user = get_user_model().objects.get(username="oidc:dr.who")
    assert user_roles(user) == {Role.OPERATOR} and user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action="sign-in")
    assert (event.actor_id, event.entity, event.outcome, event.address) == (
        user.id,
        "oidc",
        Outcome.SUCCESS,
        "127.0.0.1",
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_provider_user_without_a_mapped_role_gets_no_access_and_no_hub_user(
    live_server, single_sign_on: OidcProvider
) -> None:
    answer, browser = sign_in(live_server.url, single_sign_on, "visitor")

    assert urlsplit(answer.url).path == "/admin/login/"
    assert "gave no hub role to this account" in answer.text
    admin = browser.get(f"{live_server.url}/admin/", allow_redirects=False)
    assert admin.status_code == 302 and "/admin/login/" in admin.headers["Location"]
    assert not get_user_model().objects.filter(username__startswith="oidc:").exists()
    event = AuditEvent.objects.get(action="sign-in")
    assert (event.actor_id, event.outcome) == (None, Outcome.REFUSED)
    assert "visitor" in event.note and "roles" in event.note


@pytest.mark.django_db(transaction=True)
def test_single_sign_on_is_off_unless_configured(live_server, settings) -> None:
    answer = requests.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    assert answer.status_code == 404
    assert "/oidc/authenticate/" not in requests.get(f"{live_server.url}/admin/login/").text

    settings.HUB_OIDC_CLIENT_ID = CLIENT_ID
    settings.HUB_OIDC_JWKS_URL = "http://127.0.0.1:9/jwks"  # configured, never asked here
    page = requests.get(f"{live_server.url}/admin/login/?next=/admin/captures/").text
    assert 'href="/oidc/authenticate/?next=/admin/captures/"' in page
    assert 'name="password"' in page  # the password sign-in stays


@pytest.mark.parametrize(
    ("claimed", "role"),
    [
        (["imaging-it"], Role.OPERATOR),
        (["imaging-it", "hub-admins"], Role.ADMIN),  # the higher of two
        ("staff hub-admins", Role.ADMIN),  # a space-separated string, as some providers send
        (["staff"], None),
        ([], None),
    ],
)
def test_the_roles_claim_maps_to_one_staff_role_or_none(
    settings, claimed: object, role: Role | None
) -> None:
    settings.HUB_OIDC_ROLES_CLAIM = "roles"
    settings.HUB_OIDC_ROLE_MAP = {"imaging-it": "operator", "hub-admins": "admin"}
    assert claimed_role({"roles": claimed}) == role
