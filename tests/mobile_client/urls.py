"""The hub's routes, plus the app at /capture/ when the hub does not mount it yet.

Served the way the hub is asked to serve it: the built directory as static files,
index.html at /capture/.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, path, resolve
from django.views.static import serve

from hub.urls import urlpatterns as hub_urlpatterns

DIST = Path(__file__).resolve().parents[2] / "mobile_client" / "pwa" / "dist"

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")


def capture_app(request: HttpRequest, asset: str = "") -> HttpResponse:
    return serve(request, asset or "index.html", document_root=str(DIST))


def _hub_serves_app() -> bool:
    try:
        resolve("/capture/", urlconf="hub.urls")
    except Resolver404:
        return False
    return True


urlpatterns = list(hub_urlpatterns)
if not _hub_serves_app():
    urlpatterns += [
        path("capture/", capture_app),
        path("capture/<path:asset>", capture_app),
    ]
