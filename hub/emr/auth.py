"""Credentials for the EMR's FHIR server, as requests auth callables.

Basic, a static bearer token, or SMART Backend Services (HL7 SMART App
Launch 2.x, backend-services.html): an OAuth 2.0 client_credentials grant
authenticated with a JWT signed by the hub's private key (RFC 7523), whose
short-lived access token is cached and fetched again before it runs out.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import jwt
import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from requests.auth import _basic_auth_str

from hub.emr.errors import FhirError, FhirFailure, FhirUnavailable, safe_url


class FhirAuth(Protocol):
    """Adds credentials to a request (the requests auth-callable contract)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest: ...


@runtime_checkable
class RenewableAuth(FhirAuth, Protocol):
    """Credentials that can be fetched anew after the server refused them (401)."""

    def forget(self, request: requests.PreparedRequest) -> bool:
        """Drop the credentials `request` carried; True when new ones may be fetched."""
        ...


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic authentication (RFC 7617)."""

    username: str
    password: str = field(repr=False)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        return request


@dataclass(frozen=True)
class BearerAuth:
    """A static OAuth 2.0 bearer token (RFC 6750)."""

    token: str = field(repr=False)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


# SMART Backend Services (backend-services.html#obtain-access-token)

SMART_DEFAULT_SCOPE = (
    "system/Patient.read system/ServiceRequest.read system/Encounter.read "
    "system/DocumentReference.write system/Media.write "
    "system/ImagingStudy.write system/ImagingStudy.read"
)
SMART_ALGORITHMS = ("RS384", "ES384")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The assertion's exp is "no more than five minutes in the future"; stay under it.
ASSERTION_LIFETIME = 240
# A token is fetched again this long before its expires_in runs out (at most a
# tenth of its life), so one never expires between being attached and arriving.
RENEW_MARGIN = 30.0
# When the token answer has no expires_in (SMART requires it), assume this.
DEFAULT_EXPIRES_IN = 60
_MAX_TEXT = 300
# A compact JWS (the assertion, or a JWT access token) anywhere in a text.
_JWS = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")


class SmartKeyError(ValueError):
    """The private key is unusable for the algorithm; the message holds no key material."""


def load_private_key(pem: str | bytes, algorithm: str) -> Any:
    """The PEM private key, checked to fit `algorithm` (RS384: RSA ≥ 2048 bits; ES384: P-384)."""
    if algorithm not in SMART_ALGORITHMS:
        raise SmartKeyError(f"algorithm {algorithm!r} is not one of {', '.join(SMART_ALGORITHMS)}")
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SmartKeyError("the private key is encrypted; give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        # cryptography's message may quote the input: say only what it is not.
        raise SmartKeyError("not a PEM private key (PKCS#8 or traditional)") from None
    if algorithm == "RS384":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SmartKeyError("RS384 needs an RSA private key")
        if key.key_size < 2048:
            raise SmartKeyError(f"the RSA key has {key.key_size} bits; RS384 needs 2048 or more")
    elif not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"):
        raise SmartKeyError("ES384 needs an elliptic-curve private key on P-384 (secp384r1)")
    return key


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # time.monotonic()


class SmartBackendAuth:
    """SMART Backend Services: a cached access token from a signed client assertion.

    Every request gets `Authorization: Bearer <token>`. The token comes from
    `token_url` (client_credentials, authenticated by a JWT signed with
    `private_key_pem` under `key_id`, the kid of the public key the EMR has
    registered for `client_id`) and is reused until shortly before its
    `expires_in`; one fetch at a time, shared by the threads that use it.

    Failures of the token endpoint raise the FHIR client's errors, whose
    reasons never hold the key, the assertion or a token: no answer or a 5xx
    or 429 is `FhirUnavailable`, anything else (`invalid_client`,
    `invalid_scope`, ...) `FhirError` with the OAuth error and its description.
    """

    def __init__(
        self,
        client_id: str,
        token_url: str,
        private_key_pem: str | bytes,
        *,
        key_id: str,
        scope: str = SMART_DEFAULT_SCOPE,
        algorithm: str = "RS384",
        timeout: float | tuple[float, float] = (5, 30),
    ) -> None:
        if not client_id or not token_url or not key_id:
            raise ValueError("SMART Backend Services needs a client id, a token URL and a key id")
        self.client_id = client_id
        self.token_url = token_url
        self.key_id = key_id
        self.scope = " ".join(scope.split())
        self.algorithm = algorithm
        self.timeout = timeout
        self._key = load_private_key(private_key_pem, algorithm)
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def __repr__(self) -> str:
        return (
            f"SmartBackendAuth(client_id={self.client_id!r}, token_url={self.token_url!r}, "
            f"key_id={self.key_id!r}, algorithm={self.algorithm!r})"
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def access_token(self) -> str:
        """The cached token, or a new one when there is none or it is about to run out."""
        with self._lock:
            token = self._token
            if token is None or time.monotonic() >= token.renew_at:
                self._token = token = self._fetch()
            return token.value

    def forget(self, request: requests.PreparedRequest) -> bool:
        """Drop the cached token if `request` carried it (the server answered 401)."""
        header = request.headers.get("Authorization", "")
        with self._lock:
            # Another thread may already have replaced it: keep the newer one.
            if self._token is not None and header == f"Bearer {self._token.value}":
                self._token = None
        return True

    def client_assertion(self) -> str:
        """A fresh signed JWT (backend-services.html#authenticating-to-the-token-endpoint)."""
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "exp": int(time.time()) + ASSERTION_LIFETIME,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.key_id, "typ": "JWT"}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)

    def _fetch(self) -> _Token:
        what = f"token request to {safe_url(self.token_url)}"
        assertion = self.client_assertion()
        started = time.monotonic()
        try:
            response = requests.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "scope": self.scope,
                    "client_assertion_type": CLIENT_ASSERTION_TYPE,
                    "client_assertion": assertion,
                },
                headers={"Accept": "application/json", "User-Agent": "capture-hub"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise FhirUnavailable(f"{what}: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise FhirError(f"{what}: {type(exc).__name__}") from None
        status = response.status_code
        if status != 200:
            reason = f"{what} answered {status}{_oauth_error(response, assertion)}"
            failure: type[FhirFailure] = (
                FhirUnavailable if status >= 500 or status == 429 else FhirError
            )
            raise failure(reason)
        try:
            answer = response.json()
        except ValueError:
            raise FhirError(f"{what}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise FhirError(f"{what}: the answer is not a JSON object")
        value = answer.get("access_token")
        if not isinstance(value, str) or not value:
            raise FhirError(f"{what}: the answer has no access_token")
        token_type = answer.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise FhirError(f"{what}: token_type is {str(token_type)[:40]!r}, not bearer")
        expires_in = answer.get("expires_in", DEFAULT_EXPIRES_IN)
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
            raise FhirError(f"{what}: expires_in is not a number")
        lifetime = max(0.0, float(expires_in))
        renew_at = started + lifetime - min(RENEW_MARGIN, lifetime / 10)
        return _Token(value, renew_at)


def _oauth_error(response: requests.Response, assertion: str) -> str:
    """`: error: description` from an OAuth error answer (RFC 6749 section 5.2)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = []
    for name in ("error", "error_description"):
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            # A server that echoes the request must not put the assertion in a log line.
            value = _JWS.sub("(a JWT)", value.replace(assertion, "(the assertion)"))
            parts.append(value.strip()[:_MAX_TEXT])
    return f": {': '.join(parts)}" if parts else ""
