"""Serving the capture app (mobile_client/pwa, built to dist/) at /capture/.

The hub only serves the built files; the app talks to the hub through the
public API like any other client. The service worker and the page are never
cached by the browser's HTTP cache, so a new build reaches phones on their
next visit; everything else is named by the build and cached briefly.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.static import serve

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")

ALWAYS_FRESH = {"index.html", "sw.js", "manifest.webmanifest"}


def capture_app(request: HttpRequest, asset: str = "") -> HttpResponse:
    asset = asset or "index.html"
    if not (settings.HUB_PWA_DIR / "index.html").is_file():
        raise Http404("the capture app is not built: run `make run` (it runs npm run build)")
    response = serve(request, asset, document_root=str(settings.HUB_PWA_DIR))
    response["Cache-Control"] = "no-cache" if asset in ALWAYS_FRESH else "public, max-age=300"
    # A service worker may control /capture/ only if served from there.
    if asset == "sw.js":
        response["Service-Worker-Allowed"] = "/capture/"
    return response
