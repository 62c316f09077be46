"""Parsing the capture context from JSON, and writing it back.

The hub (or the mobile client) sends it as JSON; ``parse_context`` checks it
against the contract in docs/capture-context.md and the DICOM value limits of
PS3.5 6.2, and returns the frozen dataclasses of ``capture``.
``context_to_json`` is its inverse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from encapsulate.context.capture import (
    BodySite,
    CaptureContext,
    Device,
    Encounter,
    Order,
    Outline,
    Patient,
    Specialty,
    StudyFacts,
    WoundRef,
)
from encapsulate.dicom.enums import ImageLaterality
from encapsulate.errors import ContextError
from encapsulate.value_rules import check_lo, check_pn, check_sh, check_uid

# Patient's Sex (0010,0040) enumerated values, PS3.3 C.7.1.1.
SEXES = ("M", "F", "O")
# Image Laterality (0020,0062) enumerated values, PS3.3 C.7.6.2.
LATERALITIES = tuple(ImageLaterality)
_T = TypeVar("_T")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Coding Scheme Designator and Code Value are SH (PS3.3 8.1, 8.2).
_CODE = re.compile(r"([A-Za-z0-9_.-]{1,16}):([^\s:\\]{1,16})")


def _object(path: str, data: object, known: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ContextError(f"{path} must be a JSON object")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ContextError(f"{path}.{unknown[0]} is not a known field (known: {', '.join(known)})")
    return data


def _optional(
    obj: Mapping[str, Any], path: str, key: str, check: Callable[[str, str], _T]
) -> _T | None:
    value = obj.get(key)
    if value is None:
        return None
    field = f"{path}.{key}"
    if not isinstance(value, str):
        raise ContextError(f"{field} must be a string")
    return check(field, value)


def _required(obj: Mapping[str, Any], path: str, key: str, check: Callable[[str, str], _T]) -> _T:
    value = _optional(obj, path, key, check)
    if value is None:
        raise ContextError(f"{path}.{key} is required")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def check(field: str, value: str) -> str:
        if value not in choices:
            raise ContextError(f"{field} must be one of {', '.join(choices)}")
        return value

    return check


def _iso_date(field: str, value: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ContextError(f"{field} must be a date as YYYY-MM-DD, got {value!r}") from None


def _aware_datetime(field: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ContextError(
            f"{field} must be an ISO 8601 date-time, e.g. 2026-11-28T10:15:00+01:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ContextError(f"{field} must carry a UTC offset, e.g. 2026-11-28T10:15:00+01:00")
    return moment


def _specialty(field: str, value: str) -> Specialty:
    try:
        return Specialty(value)
    except ValueError:
        raise ContextError(
            f"{field} must be one of {', '.join(s.value for s in Specialty)}"
        ) from None


def _code(field: str, value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ContextError(
            f"{field} must be SCHEME:VALUE, e.g. SCT:30021000 (each part at most 16 characters)"
        )
    return value


def _patient(data: object) -> Patient:
    path = "context.patient"
    if data is None:
        raise ContextError(f"{path} is required")
    obj = _object(path, data, ("id", "issuer", "name", "birth_date", "sex"))
    return Patient(
        id=_required(obj, path, "id", check_lo),
        issuer=_optional(obj, path, "issuer", check_lo),
        name=_optional(obj, path, "name", check_pn),
        birth_date=_optional(obj, path, "birth_date", _iso_date),
        sex=_optional(obj, path, "sex", _one_of(SEXES)),
    )


_ORDER_FIELDS = (
    "accession_number",
    "issuer",
    "service_request",
    "study_instance_uid",
    "placer_order_number",
    "placer_issuer",
    "requested_procedure_id",
    "scheduled_procedure_step_id",
)


def _order(data: object) -> Order | None:
    if data is None:
        return None
    path = "context.order"
    obj = _object(path, data, _ORDER_FIELDS)
    order = Order(
        accession_number=_optional(obj, path, "accession_number", check_sh),
        issuer=_optional(obj, path, "issuer", check_lo),
        service_request=_optional(obj, path, "service_request", check_lo),
        study_instance_uid=_optional(obj, path, "study_instance_uid", check_uid),
        # Placer Order Number is LO, the procedure and step ids SH (PS3.3 10.9, C.4.10).
        placer_order_number=_optional(obj, path, "placer_order_number", check_lo),
        placer_issuer=_optional(obj, path, "placer_issuer", check_lo),
        requested_procedure_id=_optional(obj, path, "requested_procedure_id", check_sh),
        scheduled_procedure_step_id=_optional(obj, path, "scheduled_procedure_step_id", check_sh),
    )
    if order.accession_number is None and order.service_request is None:
        raise ContextError(f"{path} needs an accession_number or a service_request")
    if order.placer_issuer and not order.placer_order_number:
        raise ContextError(f"{path}.placer_issuer is given without a placer_order_number")
    return order


def _encounter(data: object) -> Encounter | None:
    if data is None:
        return None
    path = "context.encounter"
    obj = _object(path, data, ("id", "issuer"))
    return Encounter(
        id=_required(obj, path, "id", check_lo),
        issuer=_optional(obj, path, "issuer", check_lo),
    )


def _consent(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ContextError("context.consent must be true, false or null")


def _device(data: object) -> Device | None:
    if data is None:
        return None
    path = "context.device"
    obj = _object(path, data, ("station_aet", "station_name", "modality"))
    return Device(
        station_aet=_required(obj, path, "station_aet", _ae_title),
        station_name=_optional(obj, path, "station_name", check_sh),
        modality=_optional(obj, path, "modality", _modality),
    )


def _ae_title(field: str, value: str) -> str:
    # AE (PS3.5 6.2): at most 16 characters, no backslash or control characters.
    if not 0 < len(value.strip()) <= 16 or "\\" in value or not value.isprintable():
        raise ContextError(f"{field} must be a DICOM AE title (1 to 16 printable characters)")
    return value.strip()


def _modality(field: str, value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2,16}", value):
        raise ContextError(f"{field} must be a DICOM modality code such as ES, US or XC")
    return value


def _body_site(data: object) -> BodySite | None:
    if data is None:
        return None
    path = "context.body_site"
    obj = _object(path, data, ("code", "meaning", "laterality"))
    return BodySite(
        code=_required(obj, path, "code", _code),
        meaning=_optional(obj, path, "meaning", check_lo),
        laterality=_optional(obj, path, "laterality", _one_of(LATERALITIES)),
    )


# Series Number is IS (PS3.5 6.2): at most 2^31 - 1.
_SERIES_MAX = 2**31 - 1


def _study(data: object) -> StudyFacts | None:
    if data is None:
        return None
    path = "context.study"
    obj = _object(path, data, ("started_at", "description", "series_number"))
    number = obj.get("series_number")
    if number is not None and (
        isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= _SERIES_MAX
    ):
        raise ContextError(f"{path}.series_number must be a whole number from 1 to {_SERIES_MAX}")
    return StudyFacts(
        started_at=_required(obj, path, "started_at", _aware_datetime),
        description=_optional(obj, path, "description", check_lo),
        series_number=number,
    )


# A finger's trace, simplified by the client; the context's 64 KiB holds about 3,000.
MAX_OUTLINE_POINTS = 2000
# Pixel coordinates beyond any camera's photo are not coordinates.
_COORDINATE_MAX = 100_000.0


def _wound(data: object) -> WoundRef | None:
    if data is None:
        return None
    path = "context.wound"
    obj = _object(path, data, ("id", "new"))
    new = obj.get("new")
    if new not in (None, True):
        raise ContextError(f"{path}.new must be true (or left out with an id)")
    wound_id = _optional(obj, path, "id", check_lo)
    if (wound_id is None) == (new is None):
        raise ContextError(f"{path} needs either an id (a known wound) or new: true")
    return WoundRef(id=wound_id)


def _point(field: str, value: object) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and math.isfinite(v)
            and abs(v) <= _COORDINATE_MAX
            for v in value
        )
    ):
        raise ContextError(f"{field} must be a point [x, y] of two numbers (pixels)")
    return (float(value[0]), float(value[1]))


def _outline(data: object) -> Outline | None:
    if data is None:
        return None
    path = "context.outline"
    obj = _object(path, data, ("points",))
    points = obj.get("points")
    if not isinstance(points, list) or not 3 <= len(points) <= MAX_OUTLINE_POINTS:
        raise ContextError(
            f"{path}.points must be a list of 3 to {MAX_OUTLINE_POINTS} points [x, y]"
        )
    return Outline(points=tuple(_point(f"{path}.points[{i}]", p) for i, p in enumerate(points)))


def _tap(data: object) -> tuple[float, float] | None:
    return None if data is None else _point("context.tap", data)


_TOP_LEVEL = (
    "patient",
    "order",
    "encounter",
    "specialty",
    "body_site",
    "operator",
    "institution",
    "department",
    "captured_at",
    "description",
    "device",
    "consent",
    "study",
    "wound",
    "outline",
    "tap",
)


def parse_context(data: object) -> CaptureContext:
    """Check a decoded JSON capture context and return it as a ``CaptureContext``.

    Raises ``ContextError`` whose reason names the offending field path, e.g.
    "context.patient.id is required". Unknown keys are refused so that a typo
    never silently drops information.
    """
    obj = _object("context", data, _TOP_LEVEL)
    device = _device(obj.get("device"))
    patient_data = obj.get("patient")
    return CaptureContext(
        patient=None if patient_data is None and device else _patient(patient_data),
        device=device,
        consent=_consent(obj.get("consent")),
        order=_order(obj.get("order")),
        encounter=_encounter(obj.get("encounter")),
        specialty=_optional(obj, "context", "specialty", _specialty) or Specialty.GENERAL,
        body_site=_body_site(obj.get("body_site")),
        operator=_optional(obj, "context", "operator", check_pn),
        institution=_optional(obj, "context", "institution", check_lo),
        department=_optional(obj, "context", "department", check_lo),
        captured_at=_optional(obj, "context", "captured_at", _aware_datetime),
        description=_optional(obj, "context", "description", check_lo),
        study=_study(obj.get("study")),
        wound=_wound(obj.get("wound")),
        outline=_outline(obj.get("outline")),
        tap=_tap(obj.get("tap")),
    )


def context_to_json(ctx: CaptureContext) -> dict[str, Any]:
    """The JSON form of ``ctx``; ``parse_context(context_to_json(ctx)) == ctx``."""
    p = ctx.patient
    return {
        "patient": None
        if p is None
        else {
            "id": p.id,
            "issuer": p.issuer,
            "name": p.name,
            "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            "sex": p.sex,
        },
        "order": None
        if ctx.order is None
        else {field: getattr(ctx.order, field) for field in _ORDER_FIELDS},
        "encounter": None
        if ctx.encounter is None
        else {"id": ctx.encounter.id, "issuer": ctx.encounter.issuer},
        "specialty": ctx.specialty.value,
        "body_site": None
        if ctx.body_site is None
        else {
            "code": ctx.body_site.code,
            "meaning": ctx.body_site.meaning,
            "laterality": ctx.body_site.laterality,
        },
        "operator": ctx.operator,
        "institution": ctx.institution,
        "department": ctx.department,
        "captured_at": ctx.captured_at.isoformat() if ctx.captured_at else None,
        "description": ctx.description,
        "consent": ctx.consent,
        "device": None
        if ctx.device is None
        else {
            "station_aet": ctx.device.station_aet,
            "station_name": ctx.device.station_name,
            "modality": ctx.device.modality,
        },
        "study": None
        if ctx.study is None
        else {
            "started_at": ctx.study.started_at.isoformat(),
            "description": ctx.study.description,
            "series_number": ctx.study.series_number,
        },
        "wound": None
        if ctx.wound is None
        else ({"id": ctx.wound.id} if ctx.wound.id is not None else {"new": True}),
        "outline": None
        if ctx.outline is None
        else {"points": [list(point) for point in ctx.outline.points]},
        "tap": None if ctx.tap is None else list(ctx.tap),
    }
