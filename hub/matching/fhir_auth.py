"""Credentials for the EMR's FHIR server (basic or bearer), as requests auth callables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import requests
from requests.auth import _basic_auth_str


class FhirAuth(Protocol):
    """Adds credentials to a request (the requests auth-callable contract)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest: ...


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
