"""Resolving a capture's context against the EMR: the right patient, the right order.

Plain functions over a FHIR client; no database. Every refusal says what the
client sent and what the EMR holds, so that an operator can decide. Nothing
here guesses: an ambiguity is a refusal.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from encapsulate import CaptureContext, Encounter, Order, Patient, context_to_json
from hub.emr.client import FhirClient, FhirError
from hub.emr.resources import EncounterRecord, OrderRecord, PatientRecord


@dataclass(frozen=True)
class Resolution:
    """The outcome: a resolved context, or the reason none could be found.

    `candidates` lists the orders or encounters an operator may pick from.
    """

    context: CaptureContext | None
    reason: str = ""
    emr_patient: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    # FHIR references the write-back links to: Patient/..., ServiceRequest/..., Encounter/...
    references: dict[str, str] = field(default_factory=dict)
    via: str = ""  # how it was resolved, for the audit trail: "the EMR", "the worklist", ...

    @property
    def matched(self) -> bool:
        return self.context is not None

    def report(self, client_context: CaptureContext) -> dict[str, Any]:
        return {
            "client": context_to_json(client_context),
            "emr_patient": self.emr_patient,
            "candidates": self.candidates,
            "resolved": context_to_json(self.context) if self.context else None,
            "reason": self.reason,
            "references": self.references,
        }


def _pn_key(name: str) -> tuple[str, str]:
    """Family name and first given name, case- and accent-insensitive."""
    parts = [*name.split("^"), "", ""][:2]
    family, given = parts[0], parts[1].split(" ")[0]

    def fold(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().upper()

    return fold(family), fold(given)


def names_agree(one: str, other: str) -> bool:
    """Family and first given name agree, whatever the case, accents and middle names."""
    return _pn_key(one) == _pn_key(other)


def mrn_system(patient: Patient, default_system: str | None) -> str | None:
    """The identifier system to search: the issuer when it is a URI, else the hospital's."""
    if patient.issuer and patient.issuer.startswith(("urn:", "http://", "https://")):
        return patient.issuer
    return default_system


def _patient_json(record: PatientRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "birth_date": record.birth_date.isoformat() if record.birth_date else None,
        "sex": record.sex,
    }


def _order_json(order: OrderRecord) -> dict[str, Any]:
    return {"kind": "order", **order.summary(), "status": order.status}


def _encounter_json(encounter: EncounterRecord) -> dict[str, Any]:
    return {"kind": "encounter", **encounter.summary()}


def check_demographics(sent: Patient, emr: PatientRecord) -> str | None:
    """Wrong-patient guard: a second identifier must be sent and must agree."""
    if not sent.name and not sent.birth_date:
        return (
            f"only the MRN {sent.id} was sent; a second identifier (name or birth date) "
            "must agree with the EMR before a capture is filed"
        )
    # The reason reaches the capturer: it names the field, never the EMR's value
    # (operators compare both on the reconciliation page, from the match report).
    if sent.birth_date and sent.birth_date != emr.birth_date:
        return f"the birth date sent for {sent.id} does not match the EMR's"
    if sent.name and not names_agree(sent.name, emr.name):
        return f"the name sent for {sent.id} does not match the EMR's"
    return None


def find_emr_patient(
    fhir: FhirClient, patient: Patient, default_system: str | None
) -> tuple[PatientRecord | None, str]:
    system = mrn_system(patient, default_system)
    if system is None:
        return None, (
            f"the MRN {patient.id} names no identifier system (patient.issuer) and "
            "HUB_FHIR_MRN_SYSTEM is not set"
        )
    found = [p for p in fhir.find_patients(system, patient.id) if p.active]
    if not found:
        return None, f"no active patient with MRN {patient.id} ({system}) in the EMR"
    if len(found) > 1:
        ids = ", ".join(f"Patient/{p.id}" for p in found)
        return None, f"several EMR patients have MRN {patient.id}: {ids}"
    return found[0], ""


def _resolve_order(
    fhir: FhirClient, sent: Order, emr: PatientRecord, active: list[OrderRecord]
) -> tuple[OrderRecord | None, str]:
    if sent.service_request:
        order_id = sent.service_request.removeprefix("ServiceRequest/")
        try:
            order = fhir.get_order(order_id)
        except FhirError:
            return None, f"order {sent.service_request} does not exist in the EMR"
    else:
        by_accession = [o for o in active if o.accession_number == sent.accession_number]
        if not by_accession:
            return None, (
                f"no active order with accession {sent.accession_number} for patient "
                f"Patient/{emr.id}"
            )
        order = by_accession[0]
    if order.patient_reference != f"Patient/{emr.id}":
        return None, (
            f"order {order.accession_number or order.id} belongs to "
            f"{order.patient_reference}, not to Patient/{emr.id}"
        )
    if order.status != "active":
        return None, f"order {order.accession_number or order.id} is {order.status}, not active"
    if sent.accession_number and order.accession_number != sent.accession_number:
        return None, (
            f"accession {sent.accession_number} was sent but order {order.id} has "
            f"{order.accession_number}"
        )
    return order, ""


def _resolve_encounter(
    fhir: FhirClient, sent: Encounter | None, emr: PatientRecord
) -> tuple[EncounterRecord | None, list[dict[str, Any]], str]:
    current = fhir.in_progress_encounters(emr.id)
    if sent is not None:
        named = [e for e in current if sent.id in (e.id, f"Encounter/{e.id}", e.identifier_value)]
        if not named:
            return (
                None,
                [_encounter_json(e) for e in current],
                (f"encounter {sent.id} is not an in-progress encounter of Patient/{emr.id}"),
            )
        return named[0], [], ""
    if len(current) == 1:
        return current[0], [], ""
    if not current:
        return None, [], f"Patient/{emr.id} has no in-progress encounter and no order was named"
    return (
        None,
        [_encounter_json(e) for e in current],
        (f"Patient/{emr.id} has {len(current)} in-progress encounters; choose one"),
    )


def resolve_with_emr(
    context: CaptureContext, *, fhir: FhirClient, default_system: str | None
) -> Resolution:
    """Order-based when the context names an order, encounter-based (IHE EBIW)
    otherwise: the named encounter, or the patient's one in-progress encounter.

    Raises FhirUnavailable when the EMR cannot be asked (the caller waits).
    """
    emr, why = find_emr_patient(fhir, context.patient, default_system)
    if emr is None:
        return Resolution(None, why)
    emr_json = _patient_json(emr)
    if why := check_demographics(context.patient, emr):
        return Resolution(None, why, emr_json)

    patient = dataclasses.replace(
        context.patient, name=emr.name or None, birth_date=emr.birth_date, sex=emr.sex or None
    )
    active = fhir.active_orders(emr.id)
    order: OrderRecord | None = None
    encounter: EncounterRecord | None = None
    if context.order is not None:
        order, why = _resolve_order(fhir, context.order, emr, active)
        if order is None:
            return Resolution(None, why, emr_json, [_order_json(o) for o in active])
    else:
        # An open order is never picked for the capture: a wound photo taken
        # while an unrelated order is open must not be filed under it.
        encounter, candidates, why = _resolve_encounter(fhir, context.encounter, emr)
        if encounter is None:
            if context.encounter is None and active:
                why = f"{why}; {len(active)} open order(s) could be chosen instead"
            return Resolution(None, why, emr_json, candidates + [_order_json(o) for o in active])

    resolved = dataclasses.replace(
        context,
        patient=patient,
        order=(
            Order(
                accession_number=order.accession_number,
                issuer=order.accession_issuer or (context.order.issuer if context.order else None),
                service_request=f"ServiceRequest/{order.id}",
                study_instance_uid=order.study_instance_uid,
            )
            if order
            else None
        ),
        encounter=(
            Encounter(
                id=encounter.identifier_value or encounter.id,
                issuer=encounter.identifier_system
                or (context.encounter.issuer if context.encounter else None),
            )
            if encounter
            else context.encounter
        ),
    )
    references = {"patient": f"Patient/{emr.id}"}
    if order is not None:
        references["order"] = f"ServiceRequest/{order.id}"
    if encounter is not None:
        references["encounter"] = f"Encounter/{encounter.id}"
    return Resolution(resolved, "", emr_json, references=references)
