"""Fixtures for the pure-library tests: no database, no services."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from encapsulate import CaptureContext, parse_context

FULL_CONTEXT: dict[str, Any] = {
    "patient": {
        "id": "MRN-0042",
        "issuer": "HOSP",
        "name": "DOE^JANE",
        "birth_date": "1950-01-31",
        "sex": "F",
    },
    "order": {
        "accession_number": "ACC-7",
        "issuer": "HOSP",
        "service_request": "ServiceRequest/123",
        "study_instance_uid": None,
        "placer_order_number": "PLC-55",
        "placer_issuer": "HOSP",
        "requested_procedure_id": "RP-7",
        "scheduled_procedure_step_id": "SPS-7",
    },
    "encounter": {"id": "ENC-9", "issuer": "HOSP"},
    "specialty": "wound",
    "body_site": {"code": "SCT:30021000", "meaning": "Lower leg", "laterality": "L"},
    "operator": "NURSE^ANN",
    "institution": "General Hospital",
    "department": "Wound care",
    "captured_at": "2026-11-28T10:15:00+01:00",
    "description": "Pressure ulcer",
}


@pytest.fixture
def context_json() -> dict[str, Any]:
    return copy.deepcopy(FULL_CONTEXT)


@pytest.fixture
def context() -> CaptureContext:
    return parse_context(copy.deepcopy(FULL_CONTEXT))


@pytest.fixture
def encounter_context() -> CaptureContext:
    """Encounter-based imaging (IHE EBIW): no order."""
    data = copy.deepcopy(FULL_CONTEXT)
    del data["order"]
    return parse_context(data)
