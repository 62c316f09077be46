"""`/` tells a newcomer what the hub is and links to its parts, each of which answers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_landing_page_links_to_every_part_and_names_the_version() -> None:
    client = Client()
    page = client.get("/")

    assert page.status_code == 200
    html = page.content.decode()
    links = re.findall(r'<a href="([^"]+)">', html)
    assert links == ["/capture/", "/admin/", "/api/docs/", "/healthz"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"Version {version}" in html
    for link in links:
        # Each part answers: the app (or how to build it), the admin's sign-in,
        # the API docs, the health check (503 names what fails, which is an answer).
        assert client.get(link).status_code in (200, 302, 503), link
