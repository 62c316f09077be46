"""The operator's pages in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update

CHROMIUM = "/usr/bin/chromium"
# docs: PEERS.md "Browser tests".
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    # Playwright's sync API keeps an asyncio loop on this thread; the ORM calls the
    # tests make in between are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


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
