"""The capture-context contract (docs/capture-context.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from encapsulate import (
    BodySite,
    CaptureContext,
    ContextError,
    Patient,
    Specialty,
    context_to_json,
    parse_context,
)


def test_full_example_parses(context_json: dict[str, Any]) -> None:
    ctx = parse_context(context_json)
    assert ctx.patient == Patient("MRN-0042", "HOSP", "DOE^JANE", date(1950, 1, 31), "F")
    assert ctx.specialty is Specialty.WOUND
    assert ctx.body_site == BodySite("SCT:30021000", "Lower leg", "L")
    assert ctx.body_site.scheme == "SCT" and ctx.body_site.value == "30021000"
    assert ctx.captured_at == datetime(2026, 11, 28, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    assert ctx.order is not None and ctx.order.accession_number == "ACC-7"


def test_only_patient_id_is_required() -> None:
    ctx = parse_context({"patient": {"id": "MRN-1"}})
    assert ctx == CaptureContext(patient=Patient(id="MRN-1"))
    assert ctx.specialty is Specialty.GENERAL


def test_round_trip(context_json: dict[str, Any]) -> None:
    ctx = parse_context(context_json)
    assert parse_context(context_to_json(ctx)) == ctx
    minimal = parse_context({"patient": {"id": "M"}})
    assert parse_context(context_to_json(minimal)) == minimal


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data[key]
    if value is _DELETE:
        del data[last]
    else:
        data[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("patient.id", _DELETE, "context.patient.id is required"),
        ("patient", _DELETE, "context.patient is required"),
        ("patient.id", 42, "context.patient.id must be a string"),
        ("specialty", "cardiology", "context.specialty must be one of wound, burn,"),
        ("patient.birth_date", "31/01/1950", "context.patient.birth_date must be a date"),
        ("patient.birth_date", "1950-02-30", "context.patient.birth_date must be a date"),
        ("patient.nmae", "X", "context.patient.nmae is not a known field"),
        ("colour", "red", "context.colour is not a known field"),
        ("body_site.laterality", "left", "context.body_site.laterality must be one of R, L, B, U"),
        ("body_site.code", "30021000", "context.body_site.code must be SCHEME:VALUE"),
        ("patient.sex", "female", "context.patient.sex must be one of M, F, O"),
        ("captured_at", "2026-11-28T10:15:00", "context.captured_at must carry a UTC offset"),
        ("captured_at", "yesterday", "context.captured_at must be an ISO 8601 date-time"),
        ("patient.id", "X" * 65, "context.patient.id is 65 characters; DICOM LO allows at most 64"),
        ("order.accession_number", "A" * 17, "DICOM SH allows at most 16"),
        (
            "order.study_instance_uid",
            "1.2.03",
            "context.order.study_instance_uid is not a DICOM UID",
        ),
        ("patient.name", "A^B^C^D^E^F", "more than 5 '^'-separated components"),
        ("patient.name", "X" * 65 + "^JANE", "name component over 64 characters"),
        ("institution", "A\\B", "must not contain a backslash"),
        ("description", "two\nlines", "must be one line"),
        ("encounter.id", None, "context.encounter.id is required"),
        (
            "order",
            {"issuer": "HOSP"},
            "context.order needs an accession_number or a service_request",
        ),
        ("order", [], "context.order must be a JSON object"),
    ],
)
def test_invalid_context_names_the_field(
    context_json: dict[str, Any], path: str, value: Any, reason: str
) -> None:
    _set(context_json, path, value)
    with pytest.raises(ContextError) as caught:
        parse_context(context_json)
    assert reason in caught.value.reason
    assert "\n" not in caught.value.reason


def test_not_an_object() -> None:
    with pytest.raises(ContextError, match="context must be a JSON object"):
        parse_context(["patient"])


def test_non_ascii_names_are_kept() -> None:
    ctx = parse_context({"patient": {"id": "M1", "name": "MÜLLER^JÖRG"}})
    assert ctx.patient.name == "MÜLLER^JÖRG"
