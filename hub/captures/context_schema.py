"""The capture context as a JSON Schema, drawn from the code that parses it.

The properties are the fields of the frozen dataclasses `parse_context`
builds (their names are the JSON keys, `context_to_json` being its inverse),
their types from the dataclasses' type hints, the enumerations from the
parser's own tables; unknown keys are refused by the parser, so
`additionalProperties` is false. The examples are the parser's output:
each is parsed and written back when the schema is built, so an example the
parser would refuse cannot be published. `session` is the hub's key
(`hub.captures.sessions`), added beside them.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any

from encapsulate import BodySite, CaptureContext, Patient, context_to_json, parse_context
from encapsulate.context.parse import LATERALITIES, MAX_OUTLINE_POINTS, SEXES

# The parser's enumerations of plain string fields, by (dataclass, field).
ENUMERATED: dict[tuple[type, str], tuple[str, ...]] = {
    (Patient, "sex"): tuple(SEXES),
    (BodySite, "laterality"): tuple(str(value) for value in LATERALITIES),
}
FORMATS: dict[type, dict[str, str]] = {
    date: {"type": "string", "format": "date"},
    datetime: {"type": "string", "format": "date-time"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
}
# Fields whose JSON is not their dataclass's shape (context_to_json writes them so).
POINT = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 2,
    "description": "[x, y] in pixels of the photo as displayed (after its EXIF orientation)",
}
SHAPES: dict[tuple[type, str], dict[str, Any]] = {
    (CaptureContext, "wound"): {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "a known wound's id (the wound list)"},
            "new": {"type": "boolean", "enum": [True], "description": "a wound not seen before"},
        },
        "additionalProperties": False,
        "description": "which wound a wound or burn photo shows: an id or new: true",
    },
    (CaptureContext, "outline"): {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": POINT,
                "minItems": 3,
                "maxItems": MAX_OUTLINE_POINTS,
            }
        },
        "required": ["points"],
        "additionalProperties": False,
        "description": "the wound's edge as traced, once around",
    },
    (CaptureContext, "tap"): {**POINT, "description": "a point on the wound, to seed its outline"},
}
# Set by the hub before writing, never read from a client's JSON.
HUB_ONLY = {(CaptureContext, "wound_tracking")}
SESSION_PROPERTY = {
    "type": "string",
    "format": "uuid",
    "description": "the id of a capture session this user opened (POST /api/v1/sessions)",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "wound photo in a session": {
        "session": "5b1d0c1e-8a5e-4d8e-9d9a-2f0c4e1b7a33",
        "patient": {
            "id": "MRN-0042",
            "issuer": "HOSP",
            "name": "DOE^JANE",
            "birth_date": "1950-01-31",
            "sex": "F",
        },
        "specialty": "wound",
        "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
        "operator": "NURSE^ANN",
        "captured_at": "2026-11-28T10:15:00+01:00",
        "consent": True,
    },
    "for an order": {
        "patient": {"id": "MRN-0042", "issuer": "HOSP", "birth_date": "1950-01-31"},
        "order": {"accession_number": "ACC-7", "issuer": "HOSP"},
        "specialty": "dermatology",
        "description": "Naevus, left shoulder",
    },
    "device capture (matched by the worklist)": {
        "device": {"station_aet": "ENDO1", "station_name": "ENDO ROOM 1", "modality": "ES"},
        "specialty": "endoscopy",
        "captured_at": "2026-11-28T10:15:00+01:00",
    },
}


def _property(owner: type, name: str, hint: Any) -> tuple[dict[str, Any], bool]:
    """The JSON Schema of one field, and whether it may be null."""
    args = typing.get_args(hint)
    nullable = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
    if nullable:
        hint = next(arg for arg in args if arg is not type(None))
    if (owner, name) in SHAPES:
        schema = dict(SHAPES[owner, name])
    elif dataclasses.is_dataclass(hint):
        schema = _object_schema(hint)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        schema = {"type": "string", "enum": [str(member.value) for member in hint]}
    else:
        schema = dict(FORMATS[hint])
        if (owner, name) in ENUMERATED:
            schema["enum"] = list(ENUMERATED[owner, name])
    return schema, nullable


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for field in dataclasses.fields(cls):
        if (cls, field.name) in HUB_ONLY:
            continue
        schema, nullable = _property(cls, field.name, hints[field.name])
        if nullable:
            schema["nullable"] = True
            if "enum" in schema:
                # OpenAPI 3.0.3: a nullable enumeration lists null among its values.
                schema["enum"] = [*schema["enum"], None]
        properties[field.name] = schema
        no_default = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if no_default and not nullable:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def example_checked(example: dict[str, Any]) -> dict[str, Any]:
    """`example` as the parser reads and writes it back (keys it fills with null left out)."""
    data = dict(example)
    session = data.pop("session", None)
    written = _without_nulls(context_to_json(parse_context(data)))
    return {"session": session, **written} if session else written


@cache
def context_json_schema() -> dict[str, Any]:
    """The OpenAPI (3.0) schema of the capture context, with its examples."""
    schema = _object_schema(CaptureContext)
    # A device capture names no patient: the parser, not the type, says when one is needed.
    schema["properties"]["patient"]["nullable"] = True
    schema["properties"] = {"session": SESSION_PROPERTY, **schema["properties"]}
    schema["description"] = (
        "The capture context (docs/capture-context.md): whose capture it is, for which "
        "order or encounter, of which body site. patient.id is required unless device "
        "names the station; keys not listed are refused."
    )
    schema["example"] = context_examples()["wound photo in a session"]
    return schema


def context_examples() -> dict[str, dict[str, Any]]:
    return {name: example_checked(example) for name, example in EXAMPLES.items()}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
