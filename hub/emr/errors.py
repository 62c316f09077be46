"""How a FHIR exchange fails, in words an operator can read (no secrets, no MRNs)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class FhirFailure(Exception):
    """A FHIR exchange that did not succeed; `reason` is safe to show an operator."""

    transient = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FhirError(FhirFailure):
    """Permanent: the server refused the request (4xx) or sent an invalid resource."""


class FhirUnavailable(FhirFailure):
    """Transient: no usable answer after the client's retries; try again later."""

    transient = True


def safe_url(url: str) -> str:
    """The URL without credentials and with query values hidden (they can be MRNs)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    names = [pair.split("=", 1)[0] for pair in parts.query.split("&") if pair]
    query = "&".join(f"{name}=…" for name in names)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
