"""The FHIR client the hub's settings describe (HUB_FHIR_*), built in one place.

Credentials are checked when built: a SMART Backend Services key that cannot
be read, or a mix of auth settings, raises ImproperlyConfigured (see
`hub.emr.checks`, which builds it once at start-up).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from hub.emr.auth import (
    SMART_ALGORITHMS,
    SMART_DEFAULT_SCOPE,
    BasicAuth,
    BearerAuth,
    FhirAuth,
    SmartBackendAuth,
    SmartKeyError,
)
from hub.emr.client import FhirClient


def fhir_client_from_settings() -> FhirClient | None:
    """The client for the configured EMR, or None when HUB_FHIR_URL is empty.

    Credentials: HUB_FHIR_TOKEN (bearer), HUB_FHIR_USERNAME/PASSWORD (basic)
    or HUB_FHIR_SMART_* (SMART Backend Services), one kind at most. Anything
    missing, contradictory or unreadable is ImproperlyConfigured at start-up.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    url = getattr(settings, "HUB_FHIR_URL", "")
    if not url:
        return None
    token = getattr(settings, "HUB_FHIR_TOKEN", None)
    username = getattr(settings, "HUB_FHIR_USERNAME", None)
    password = getattr(settings, "HUB_FHIR_PASSWORD", None)
    smart_client_id = getattr(settings, "HUB_FHIR_SMART_CLIENT_ID", None)
    if smart_client_id and (token or username):
        raise ImproperlyConfigured(
            "set HUB_FHIR_SMART_CLIENT_ID or HUB_FHIR_TOKEN or HUB_FHIR_USERNAME, "
            "one kind of credentials only"
        )
    if token and username:
        raise ImproperlyConfigured("set HUB_FHIR_TOKEN or HUB_FHIR_USERNAME, not both")
    read_timeout = float(getattr(settings, "HUB_FHIR_TIMEOUT", 30.0))
    timeout = (min(5.0, read_timeout), read_timeout)
    if not smart_client_id:
        _refuse_stray_smart_settings(settings)
    auth: FhirAuth | None = None
    if smart_client_id:
        auth = _smart_auth_from_settings(settings, smart_client_id, timeout)
    elif token:
        auth = BearerAuth(token)
    elif username:
        if not password:
            raise ImproperlyConfigured("HUB_FHIR_USERNAME needs HUB_FHIR_PASSWORD")
        auth = BasicAuth(username, password)
    return FhirClient(
        url,
        auth=auth,
        timeout=timeout,
        retries=int(getattr(settings, "HUB_FHIR_RETRIES", 3)),
        backoff=float(getattr(settings, "HUB_FHIR_RETRY_BASE_SECONDS", 0.5)),
        max_backoff=float(getattr(settings, "HUB_FHIR_RETRY_MAX_SECONDS", 8.0)),
    )


_smart_lock = threading.Lock()
_smart_auth: dict[tuple[Any, ...], SmartBackendAuth] = {}

_SMART_REQUIRED = (
    "HUB_FHIR_SMART_TOKEN_URL",
    "HUB_FHIR_SMART_PRIVATE_KEY_PATH",
    "HUB_FHIR_SMART_KEY_ID",
)


def _smart_auth_from_settings(
    settings: Any, client_id: str, timeout: tuple[float, float]
) -> SmartBackendAuth:
    """SmartBackendAuth from HUB_FHIR_SMART_*; the key file is read and checked now."""

    from django.core.exceptions import ImproperlyConfigured

    missing = [name for name in _SMART_REQUIRED if not getattr(settings, name, None)]
    if missing:
        raise ImproperlyConfigured(
            f"HUB_FHIR_SMART_CLIENT_ID (SMART Backend Services) also needs {', '.join(missing)}"
        )
    token_url = settings.HUB_FHIR_SMART_TOKEN_URL
    if not token_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"HUB_FHIR_SMART_TOKEN_URL={token_url!r} must be an http:// or https:// URL"
        )
    algorithm = getattr(settings, "HUB_FHIR_SMART_ALGORITHM", None) or "RS384"
    if algorithm not in SMART_ALGORITHMS:
        raise ImproperlyConfigured(
            f"HUB_FHIR_SMART_ALGORITHM={algorithm!r} must be one of {', '.join(SMART_ALGORITHMS)}"
        )
    key_path = Path(settings.HUB_FHIR_SMART_PRIVATE_KEY_PATH).expanduser()
    try:
        pem = key_path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"HUB_FHIR_SMART_PRIVATE_KEY_PATH={str(key_path)!r} cannot be read: "
            f"{exc.strerror or type(exc).__name__}"
        ) from None
    key_id = settings.HUB_FHIR_SMART_KEY_ID
    scope = getattr(settings, "HUB_FHIR_SMART_SCOPE", None) or SMART_DEFAULT_SCOPE
    # A client is built per look-up; its token is not: one auth per configuration.
    config = (client_id, token_url, hashlib.sha256(pem).digest(), key_id, scope, algorithm, timeout)
    with _smart_lock:
        cached = _smart_auth.get(config)
        if cached is not None:
            return cached
        try:
            auth = SmartBackendAuth(
                client_id,
                token_url,
                pem,
                key_id=key_id,
                scope=scope,
                algorithm=algorithm,
                timeout=timeout,
            )
        except SmartKeyError as exc:
            raise ImproperlyConfigured(
                f"HUB_FHIR_SMART_PRIVATE_KEY_PATH={str(key_path)!r}: {exc}"
            ) from None
        _smart_auth.clear()  # the configuration changed (a new key): drop the old one
        _smart_auth[config] = auth
        return auth


def _refuse_stray_smart_settings(settings: Any) -> None:
    """SMART settings without a client id are a half-done configuration, not ignored."""
    from django.core.exceptions import ImproperlyConfigured

    stray = [name for name in _SMART_REQUIRED if getattr(settings, name, None)]
    if stray:
        raise ImproperlyConfigured(
            f"{', '.join(stray)} set but HUB_FHIR_SMART_CLIENT_ID is not; set it or unset them"
        )
