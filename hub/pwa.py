"""Serving the capture app (mobile_client/pwa, built to dist/) at /capture/.

The hub only serves the built files; the app talks to the hub through the
public API like any other client. The service worker and the page are never
cached by the browser's HTTP cache, so a new build reaches phones on their
next visit; everything else is named by the build and cached briefly.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.static import serve

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")

ALWAYS_FRESH = {"index.html", "sw.js", "manifest.webmanifest"}
# Plain text, not Django's 404 page: with DEBUG off that page would hide the fix.
NOT_BUILT = (
    "The capture app is not built, so the hub has nothing to serve at /capture/.\n"
    "Build it with `make run` (it builds the app, then starts the hub), or alone with\n"
    "`npm run build --prefix mobile_client/pwa`, then reload this page.\n"
)


def capture_app(request: HttpRequest, asset: str = "") -> HttpResponse:
    asset = asset or "index.html"
    if not (settings.HUB_PWA_DIR / "index.html").is_file():
        # 503: the hub is up but this part of it is not deployed; a retry after a build works.
        response = HttpResponse(NOT_BUILT, status=503, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
    response = serve(request, asset, document_root=str(settings.HUB_PWA_DIR))
    response["Cache-Control"] = "no-cache" if asset in ALWAYS_FRESH else "public, max-age=300"
    # A service worker may control /capture/ only if served from there.
    if asset == "sw.js":
        response["Service-Worker-Allowed"] = "/capture/"
    return response
