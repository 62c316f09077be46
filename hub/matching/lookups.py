"""Look-ups the capture clients need after a wristband scan, answered from the EMR.

Clients never talk to the EMR themselves: the hub holds its address and
credentials, and answers with only what a bedside confirmation needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from hub.emr.client import FhirClient
from hub.emr.factory import fhir_client_from_settings
from hub.emr.resources import PatientRecord


class LookupUnavailable(Exception):
    """No EMR is configured: the client lets the user type the demographics."""


@dataclass(frozen=True)
class PatientSummary:
    id: str
    identifier: str
    issuer: str | None
    name: str
    birth_date: str | None
    sex: str

    @classmethod
    def of(cls, record: PatientRecord, identifier: str, issuer: str | None) -> PatientSummary:
        return cls(
            id=f"Patient/{record.id}",
            identifier=identifier,
            issuer=issuer,
            name=record.name,
            birth_date=record.birth_date.isoformat() if record.birth_date else None,
            sex=record.sex,
        )


def _client() -> FhirClient:
    client = fhir_client_from_settings()
    if client is None:
        raise LookupUnavailable("no EMR is configured (HUB_FHIR_URL)")
    return client


def _one_patient(client: FhirClient, identifier: str) -> PatientRecord | None:
    system = settings.HUB_FHIR_MRN_SYSTEM
    found = [p for p in client.find_patients(system, identifier) if p.active] if system else []
    return found[0] if len(found) == 1 else None


def patients_find(*, identifier: str) -> list[PatientSummary]:
    """Active patients with this MRN (in HUB_FHIR_MRN_SYSTEM); raises LookupUnavailable."""
    system = settings.HUB_FHIR_MRN_SYSTEM
    with _client() as client:
        if not system:
            raise LookupUnavailable("HUB_FHIR_MRN_SYSTEM is not set")
        return [
            PatientSummary.of(record, identifier, system)
            for record in client.find_patients(system, identifier)
            if record.active
        ]


def patient_orders(*, identifier: str) -> list[dict[str, Any]] | None:
    """The patient's open orders; None when no single patient has this MRN."""
    with _client() as client:
        patient = _one_patient(client, identifier)
        if patient is None:
            return None
        return [order.summary() for order in client.active_orders(patient.id)]


def patient_encounters(*, identifier: str) -> list[dict[str, Any]] | None:
    """The patient's in-progress encounters; None when no single patient has this MRN."""
    with _client() as client:
        patient = _one_patient(client, identifier)
        if patient is None:
            return None
        return [encounter.summary() for encounter in client.in_progress_encounters(patient.id)]
