"""Device profiles: which files a device drops, when they are whole, where their context is.

Profiles are TOML (`profiles.toml` beside this module, plus a site's own file);
each `[profiles.NAME]` table becomes a frozen `Profile`. Every mistake in a
profile is reported at start-up as a `ProfileError` naming the profile and key,
so a misconfigured tower never starts dropping files into `failed/`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

SHIPPED = Path(__file__).with_name("profiles.toml")
DEFAULT_QUIET_SECONDS = 5.0
DEFAULT_SIDECAR_WAIT_SECONDS = 60.0
# The capture context's specialties (docs/capture-context.md).
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
# Named groups a file-name pattern may use, and the context field each fills.
FILENAME_GROUPS = {
    "mrn": "patient.id",
    "patient_id": "patient.id",
    "issuer": "patient.issuer",
    "name": "patient.name",
    "accession": "order.accession_number",
    "encounter": "encounter.id",
    "date": "captured_at",
    "time": "captured_at",
}
_KEYS = {
    "description",
    "specialty",
    "station",
    "patterns",
    "done_marker",
    "quiet_seconds",
    "context",
    "filename_pattern",
    "sidecar_wait_seconds",
    "xml_map",
    "defaults",
}


class ProfileError(Exception):
    """A profile file or entry that cannot be used; the message names what is wrong."""


class ContextSource(StrEnum):
    FILENAME = "filename"
    SIDECAR_JSON = "sidecar-json"
    SIDECAR_XML = "sidecar-xml"
    NONE = "none"


@dataclass(frozen=True)
class Profile:
    """How the agent treats one kind of device's export folder."""

    name: str
    specialty: str
    patterns: tuple[str, ...]
    context: ContextSource
    description: str = ""
    station: str = ""
    # "{name}" is the media file's name, "{stem}" its name without the suffix.
    done_marker: str | None = None
    quiet_seconds: float = DEFAULT_QUIET_SECONDS
    filename_pattern: re.Pattern[str] | None = None
    sidecar_wait_seconds: float = DEFAULT_SIDECAR_WAIT_SECONDS
    # context field path ("patient.id") -> ElementTree path in the sidecar XML.
    xml_map: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Partial capture context every file of this device starts from.
    defaults: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def marker_for(self, media: Path) -> Path | None:
        if not self.done_marker:
            return None
        return media.with_name(self.done_marker.format(name=media.name, stem=media.stem))

    def with_quiet_seconds(self, seconds: float) -> Profile:
        return replace(self, quiet_seconds=seconds)


def load_profiles(site_file: Path | None = None) -> dict[str, Profile]:
    """The shipped profiles, overridden and extended by the site's file if given."""
    profiles = _profiles_in(SHIPPED)
    if site_file is not None:
        profiles.update(_profiles_in(site_file))
    return profiles


def _profiles_in(path: Path) -> dict[str, Profile]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfileError(f"cannot read profiles file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path} is not valid TOML: {error}") from None
    tables = data.get("profiles")
    if not isinstance(tables, dict) or not tables:
        raise ProfileError(f"{path} has no [profiles.NAME] table")
    return {name: parse_profile(name, table) for name, table in tables.items()}


def parse_profile(name: str, table: object) -> Profile:
    """One `[profiles.NAME]` table; raises ProfileError naming the key at fault."""
    where = f"profile {name!r}"
    if not isinstance(table, dict):
        raise ProfileError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        known = ", ".join(sorted(_KEYS))
        raise ProfileError(f"{where}: unknown key {unknown[0]!r} (known: {known})")
    specialty = _text(table, "specialty", where, default="general")
    if specialty not in SPECIALTIES:
        raise ProfileError(f"{where}: specialty must be one of {', '.join(SPECIALTIES)}")
    patterns = table.get("patterns")
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p.strip() for p in patterns)
    ):
        raise ProfileError(f"{where}: patterns must be a non-empty list of glob patterns")
    try:
        source = ContextSource(table.get("context", "none"))
    except ValueError:
        choices = ", ".join(s.value for s in ContextSource)
        raise ProfileError(f"{where}: context must be one of {choices}") from None
    pattern = _filename_pattern(table, where, required=source is ContextSource.FILENAME)
    xml_map = _xml_map(table, where, required=source is ContextSource.SIDECAR_XML)
    defaults = table.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ProfileError(f"{where}: defaults must be a table (a partial capture context)")
    marker = table.get("done_marker")
    if marker is not None and (not isinstance(marker, str) or not marker.strip()):
        raise ProfileError(f"{where}: done_marker must be a file name such as '{{name}}.done'")
    return Profile(
        name=name,
        description=_text(table, "description", where, default=""),
        specialty=specialty,
        station=_text(table, "station", where, default=""),
        patterns=tuple(p.strip() for p in patterns),
        context=source,
        done_marker=marker,
        quiet_seconds=_seconds(table, "quiet_seconds", where, DEFAULT_QUIET_SECONDS),
        filename_pattern=pattern,
        sidecar_wait_seconds=_seconds(
            table, "sidecar_wait_seconds", where, DEFAULT_SIDECAR_WAIT_SECONDS
        ),
        xml_map=MappingProxyType(xml_map),
        defaults=MappingProxyType(defaults),
    )


def _text(table: dict[str, Any], key: str, where: str, *, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {key} must be a string")
    return value


def _seconds(table: dict[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ProfileError(f"{where}: {key} must be a number of seconds, 0 or more")
    return float(value)


def _filename_pattern(
    table: dict[str, Any], where: str, *, required: bool
) -> re.Pattern[str] | None:
    text = table.get("filename_pattern")
    if text is None:
        if required:
            raise ProfileError(f"{where}: context 'filename' needs a filename_pattern")
        return None
    if not isinstance(text, str):
        raise ProfileError(f"{where}: filename_pattern must be a string (a regular expression)")
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise ProfileError(
            f"{where}: filename_pattern is not a regular expression: {error}"
        ) from None
    unknown = sorted(set(pattern.groupindex) - set(FILENAME_GROUPS))
    if unknown:
        raise ProfileError(
            f"{where}: filename_pattern group {unknown[0]!r} is not one of "
            + ", ".join(FILENAME_GROUPS)
        )
    if "time" in pattern.groupindex and "date" not in pattern.groupindex:
        raise ProfileError(f"{where}: filename_pattern has a 'time' group but no 'date' group")
    return pattern


def _xml_map(table: dict[str, Any], where: str, *, required: bool) -> dict[str, str]:
    mapping = table.get("xml_map", {})
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ProfileError(f"{where}: xml_map must be a table of 'field.path' = 'XML/path'")
    if required and "patient.id" not in mapping:
        raise ProfileError(f"{where}: context 'sidecar-xml' needs xml_map.\"patient.id\"")
    return dict(mapping)
