"""`GET /`: what this hub is and where its parts are, for the person who just installed it."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

LINKS = (
    ("/capture/", "Capture app", "for nurses and clinicians: photograph, scan the wristband, send"),
    ("/admin/", "Operators' workbench", "unmatched and failed captures, reconciliation, audit"),
    ("/api/docs/", "API documentation", "the REST API and its OpenAPI schema (/api/schema/)"),
    ("/healthz", "Health", "whether the database, the broker and the data directory work"),
)


@cache
def hub_version() -> str:
    return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])


def landing(request: HttpRequest) -> HttpResponse:
    items = format_html_join(
        "\n", '<li><a href="{}">{}</a>: {}</li>', ((url, name, what) for url, name, what in LINKS)
    )
    page = format_html(
        """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Capture hub</title></head>
<body>
<main>
<h1>Capture hub</h1>
<p>Takes in photos, video, POCUS clips and endoscopy captures that are not born as DICOM,
ties each to its patient and order or encounter, and delivers it to the archive.</p>
<ul>
{}
</ul>
<p>Version {}</p>
</main>
</body>
</html>
""",
        items,
        hub_version(),
    )
    return HttpResponse(page)
