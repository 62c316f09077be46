"""The capture context of a dropped file, read the way its device's profile says.

The agent does not re-implement the context rules (docs/capture-context.md):
the hub checks them when the upload is created and refuses a bad context with
a reason, which ends up in `failed/NAME.reason.txt`. Here only what the agent
itself must know is checked: that there is a patient id at all.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mobile_client.agent.profiles import FILENAME_GROUPS, ContextSource, Profile

NO_PATIENT_CONTEXT = "no patient context"
# The modality a device's worklist steps are scheduled under, by specialty.
STATION_MODALITIES = {"endoscopy": "ES", "pocus": "US"}


class ContextRefused(Exception):
    """The file cannot be sent with what its name or sidecar says; `reason` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SidecarMissing(Exception):
    """The sidecar is not there (yet): the device may still be writing it."""

    def __init__(self, sidecar: Path) -> None:
        super().__init__(f"the sidecar {sidecar.name} is missing")
        self.sidecar = sidecar


@dataclass(frozen=True)
class FileContext:
    """The context to send, and the files (sidecar) that belong with the media."""

    context: dict[str, Any]
    companions: tuple[Path, ...] = ()


def sidecar_of(media: Path, profile: Profile) -> Path | None:
    if profile.context is ContextSource.SIDECAR_JSON:
        return media.with_suffix(".json")
    if profile.context is ContextSource.SIDECAR_XML:
        return media.with_suffix(".xml")
    return None


def read_context(media: Path, profile: Profile) -> FileContext:
    """Profile defaults and specialty, overlaid with what the file name or sidecar says.

    Without a patient id, a profile that names its `station` sends a device
    context (the hub matches the station's worklist by capture time); one
    that does not raises ContextRefused ("no patient context: ..."), as does
    a sidecar that cannot be read. SidecarMissing while a sidecar is absent.
    """
    base: dict[str, Any] = {"specialty": profile.specialty}
    base = merged(base, _plain(profile.defaults))
    companions: tuple[Path, ...] = ()
    if profile.context is ContextSource.FILENAME:
        found = from_file_name(media.name, profile)
    elif profile.context is ContextSource.NONE:
        found = {}
    else:
        sidecar = sidecar_of(media, profile)
        assert sidecar is not None
        if not sidecar.is_file():
            raise SidecarMissing(sidecar)
        companions = (sidecar,)
        if profile.context is ContextSource.SIDECAR_JSON:
            found = from_sidecar_json(sidecar)
        else:
            found = from_sidecar_xml(sidecar, profile.xml_map)
    context = merged(base, found)
    patient = context.get("patient")
    if (not isinstance(patient, dict) or not patient.get("id")) and profile.station:
        # No patient on the file: the hub matches the station's worklist by time.
        context.pop("patient", None)
        device = {"station_aet": profile.station}
        if modality := STATION_MODALITIES.get(str(context.get("specialty"))):
            device["modality"] = modality
        context["device"] = {**device, **(context.get("device") or {})}
        return FileContext(context=context, companions=companions)
    if not isinstance(patient, dict) or not patient.get("id"):
        where = {
            ContextSource.FILENAME: "the file name does not give a patient id",
            ContextSource.NONE: f"profile {profile.name!r} reads none and gives no patient.id",
        }.get(profile.context, "the sidecar gives no patient.id")
        raise ContextRefused(f"{NO_PATIENT_CONTEXT}: {where}")
    return FileContext(context=context, companions=companions)


def from_file_name(name: str, profile: Profile) -> dict[str, Any]:
    """The context fields the profile's pattern finds in `name` (re.match, from the start)."""
    assert profile.filename_pattern is not None
    match = profile.filename_pattern.match(name)
    if match is None:
        raise ContextRefused(
            f"{NO_PATIENT_CONTEXT}: the file name does not match the pattern of "
            f"profile {profile.name!r}"
        )
    groups = {k: v for k, v in match.groupdict().items() if v}
    context: dict[str, Any] = {}
    for group, value in groups.items():
        target = FILENAME_GROUPS[group]
        if target != "captured_at":
            _set(context, target, value)
    if "date" in groups and "time" in groups:
        # A date alone is not used: a made-up time of day is worse than none.
        context["captured_at"] = _local_datetime(groups["date"], groups["time"])
    return context


def from_sidecar_json(sidecar: Path) -> dict[str, Any]:
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ContextRefused(f"the sidecar {sidecar.name} cannot be read: {error}") from None
    except json.JSONDecodeError as error:
        raise ContextRefused(f"the sidecar {sidecar.name} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ContextRefused(f"the sidecar {sidecar.name} must hold a JSON object")
    return data


def from_sidecar_xml(sidecar: Path, mapping: dict[str, str] | Any) -> dict[str, Any]:
    """Each mapped field is the text of the element the ElementTree path finds, if any."""
    try:
        root = ElementTree.parse(sidecar).getroot()
    except (OSError, ElementTree.ParseError) as error:
        raise ContextRefused(f"the sidecar {sidecar.name} is not readable XML: {error}") from None
    context: dict[str, Any] = {}
    for target, path in mapping.items():
        try:
            text = root.findtext(path)
        except SyntaxError as error:  # a bad path in the profile
            raise ContextRefused(f"xml_map path {path!r} is invalid: {error}") from None
        if text is not None and text.strip():
            _set(context, target, text.strip())
    return context


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`overlay` over `base`, object by object; neither is changed."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _set(context: dict[str, Any], path: str, value: str) -> None:
    *parents, leaf = path.split(".")
    node = context
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _local_datetime(date: str, time: str) -> str:
    digits = date.replace("-", "") + time.replace(":", "")
    try:
        moment = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        raise ContextRefused(f"the file name's date and time {date} {time} are not valid") from None
    # Devices stamp local time; the contract wants an offset, this machine's.
    return moment.astimezone().isoformat()
