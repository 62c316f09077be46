"""The patient picker: an operator names a patient by MRN, the hub looks them up, and
the operator chooses their order or encounter, sees the old and the new identity
side by side, and confirms with a reason.

The new context is the capture's own with the patient, order and encounter
replaced by what the EMR holds, so the match step checks it like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms

from hub.emr.client import FhirError, FhirUnavailable
from hub.matching.lookups import (
    LookupUnavailable,
    PatientSummary,
    patient_encounters,
    patient_orders,
    patients_find,
)

NO_ORDER = "none"


@dataclass(frozen=True)
class PickerChoices:
    """What the EMR holds for one MRN: the patient, and their open orders and encounters."""

    mrn: str
    patient: PatientSummary | None = None
    orders: list[dict[str, Any]] = field(default_factory=list)
    encounters: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""

    def options(self) -> list[tuple[str, str]]:
        """(value, label) of each order or encounter the capture may be filed under."""
        listed = [
            (o["id"], f"order {o.get('accession_number') or o['id']}: {o.get('description') or ''}")
            for o in self.orders
        ]
        listed += [
            (e["id"], f"encounter {e.get('identifier') or e['id']} ({e.get('class') or ''})")
            for e in self.encounters
        ]
        return [*listed, (NO_ORDER, "no order or encounter")]


def picker_look_up(mrn: str) -> PickerChoices:
    """The patient with this MRN and their orders and encounters, or why there is none."""
    try:
        found = patients_find(identifier=mrn)
        if len(found) != 1:
            why = "no active patient has" if not found else "more than one active patient has"
            return PickerChoices(mrn=mrn, problem=f"{why} the MRN {mrn} in the EMR")
        return PickerChoices(
            mrn=mrn,
            patient=found[0],
            orders=patient_orders(identifier=mrn) or [],
            encounters=patient_encounters(identifier=mrn) or [],
        )
    except LookupUnavailable as error:
        return PickerChoices(mrn=mrn, problem=f"{error}: use the expert form below")
    except (FhirUnavailable, FhirError) as error:
        return PickerChoices(mrn=mrn, problem=f"the EMR could not be asked: {error.reason}")


class PickForm(forms.Form):
    mrn = forms.CharField(max_length=64)
    choice = forms.CharField(max_length=128)
    reason = forms.CharField(
        max_length=500, help_text="why the capture is filed under this patient"
    )
    confirm = forms.BooleanField(
        label="I have compared the photo and both identities", required=True
    )


def picked_context(current: dict[str, Any], choices: PickerChoices, choice: str) -> dict[str, Any]:
    """The capture's context filed under the picked patient and order or encounter."""
    patient = choices.patient
    assert patient is not None
    context = {
        **current,
        # No issuer: the match step searches the hospital's MRN system, as the picker did.
        "patient": {
            "id": patient.identifier,
            "name": patient.name,
            "birth_date": patient.birth_date,
            "sex": patient.sex or None,
        },
        "order": None,
        "encounter": None,
    }
    order = next((o for o in choices.orders if o["id"] == choice), None)
    encounter = next((e for e in choices.encounters if e["id"] == choice), None)
    if order is not None:
        context["order"] = {
            "accession_number": order.get("accession_number"),
            "issuer": order.get("issuer"),
            "service_request": order["id"],
            "study_instance_uid": order.get("study_instance_uid"),
        }
    elif encounter is not None:
        context["encounter"] = {"id": encounter["id"].removeprefix("Encounter/")}
    elif choice != NO_ORDER:
        raise ValueError(f"{choice} is not one of {choices.mrn}'s orders or encounters")
    return context
