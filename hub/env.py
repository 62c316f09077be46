"""Typed readers for settings taken from the environment.

Each reader fails at start-up with the variable's name and what was wrong, so a
typo in a deployment stops the hub instead of running it half-configured.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str:
    """A string; without a default the variable is required."""
    value = _raw(name)
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} must be set (see .env.example)")
    return default


def env_optional(name: str) -> str | None:
    return _raw(name) or None


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


def env_url(name: str) -> str | None:
    """An optional http(s) URL, without a trailing slash."""
    value = env_optional(name)
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name}={value!r} must be an http:// or https:// URL")
    return value.rstrip("/")


def parse_pairs(name: str, value: str) -> dict[str, str]:
    """`KEY=VALUE,KEY=VALUE` into a dict."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not KEY=VALUE")
        pairs[key.strip()] = val.strip()
    return pairs


def parse_ae_addresses(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """`AET@host,AET@host` into ((AET, host), ...); AE titles as PS3.5 allows (1-16, no \\)."""
    pairs = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        title, sep, host = item.rpartition("@")
        if not sep or not title.strip() or not host.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not AET@host")
        if len(title.strip()) > 16 or "\\" in title:
            raise ImproperlyConfigured(f"{name}: {title!r} is not an AE title (1-16 characters)")
        pairs.append((title.strip(), host.strip()))
    return tuple(pairs)


ORIGINALS_CHOICES = {"dicom": ("dicom",), "original": ("original",), "both": ("dicom", "original")}
SPECIALTIES = (
    "wound",
    "burn",
    "dermatology",
    "dermoscopy",
    "ophthalmology",
    "pocus",
    "endoscopy",
    "general",
)


def parse_originals_policy(name: str, value: str) -> dict[str, tuple[str, ...]]:
    """`dicom,dermatology:both` into {specialty: ("dicom", "original"), ...} for every specialty."""
    default, overrides = "dicom", {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        specialty, sep, choice = item.rpartition(":")
        if choice not in ORIGINALS_CHOICES:
            raise ImproperlyConfigured(f"{name}: {choice!r} must be dicom, original or both")
        if not sep:
            default = choice
        elif specialty in SPECIALTIES:
            overrides[specialty] = choice
        else:
            raise ImproperlyConfigured(f"{name}: {specialty!r} is not a specialty")
    return {s: ORIGINALS_CHOICES[overrides.get(s, default)] for s in SPECIALTIES}
