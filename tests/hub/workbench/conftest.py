"""The operator's pages in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from tests.browser import chromium_fixture  # noqa: F401  (the fixture `chromium`)


@pytest.fixture
def admin_page(chromium: object, live_server: object) -> Iterator[Callable[[Role], object]]:
    """A page signed in to the admin as a user of the given role (its session cookie)."""
    contexts = []

    def page_for(role: Role) -> object:
        client = Client()
        client.force_login(user_create_or_update(username=f"browser-{role.value}", role=role))
        context = chromium.new_context(base_url=live_server.url)  # type: ignore[attr-defined]
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,  # type: ignore[attr-defined]
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield page_for
    for context in contexts:
        context.close()
