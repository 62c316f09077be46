"""Debian's Chromium driven by Playwright, for the browser tests of the hub's own pages.

Import the fixture into a conftest (`from tests.browser import chromium_fixture`);
its tests then ask for `chromium`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def chromium_running() -> Iterator[object]:
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


# Per package, not per session: Playwright's sync API allows one instance at a time in
# a thread, so each package's browser stops before the next package's starts.
@pytest.fixture(scope="package", name="chromium")
def chromium_fixture() -> Iterator[object]:
    with chromium_running() as browser:
        yield browser


# Per module, for a package whose tests pytest-django runs apart (its transactional
# ones after every other package's): a package's browser would still be running when
# the next package's starts.
@pytest.fixture(scope="module", name="chromium")
def chromium_module_fixture() -> Iterator[object]:
    with chromium_running() as browser:
        yield browser
