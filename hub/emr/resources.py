"""What the hub reads from FHIR R4 resources, as small frozen records.

Resources are validated with fhir.resources before anything is read from
them. fhir.resources 8 ships R5 at its top level, R4B under
`fhir.resources.R4B` and STU3; it has no R4 package (R4 was fhir.resources
6.x, which needs pydantic 1). R4B (4.3.0) is R4 plus a handful of new
resources and fixes: Patient, ServiceRequest, Encounter, Bundle, Media,
DocumentReference and ImagingStudy keep R4's shape and value sets, so R4B
models accept what an R4 server such as Medplum sends. Plain Python: no
Django here.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.identifier import Identifier as FhirIdentifier
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

logger = logging.getLogger(__name__)

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
DICOM_UID_SYSTEM = "urn:dicom:uid"
# PS3.5 9.1: UID components are digits, no leading zero, at most 64 characters.
_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
# Administrative gender (R4 valueset-administrative-gender) to Patient's Sex
# (0010,0040); unknown maps to an empty value, which type 2 allows.
_SEX = {"male": "M", "female": "F", "other": "O"}


class ResourceInvalid(ValueError):
    """A resource that is not valid FHIR R4(B) JSON, or not of the expected type."""


@dataclass(frozen=True)
class Identifier:
    system: str | None
    value: str


@dataclass(frozen=True)
class PatientRecord:
    """A Patient (R4 patient.html), as DICOM's Patient module wants it.

    `name` is a DICOM PN (PS3.5 6.2): `FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX`,
    trailing empty components dropped. `birth_date` is None when absent or
    partial (DICOM DA cannot hold `1970-05`). `sex` is M, F, O or empty.
    """

    id: str
    identifiers: tuple[Identifier, ...]
    name: str
    birth_date: datetime.date | None
    sex: str
    active: bool


@dataclass(frozen=True)
class OrderRecord:
    """An imaging ServiceRequest (R4 servicerequest.html).

    The accession number is the identifier typed v2-0203 `ACSN`; its issuer is
    the identifier's assigner display, else its system. `study_instance_uid`
    comes from an identifier in system `urn:dicom:uid` (prefix `urn:oid:`
    removed). `authored_on` is the FHIR dateTime as sent.
    """

    id: str
    status: str
    patient_reference: str | None
    accession_number: str | None
    accession_issuer: str | None
    study_instance_uid: str | None
    code_text: str | None
    authored_on: str | None
    requester: str | None

    def summary(self) -> dict[str, Any]:
        """What a client or an operator is shown of the order, as JSON."""
        return {
            "id": f"ServiceRequest/{self.id}",
            "accession_number": self.accession_number,
            "issuer": self.accession_issuer,
            "description": self.code_text,
            "authored_on": self.authored_on,
            "study_instance_uid": self.study_instance_uid,
        }


@dataclass(frozen=True)
class EncounterRecord:
    """An Encounter (R4 encounter.html); the identifier goes to Admission ID (0038,0010)."""

    id: str
    status: str
    patient_reference: str | None
    identifier_value: str | None
    identifier_system: str | None
    encounter_class: str | None
    period_start: str | None

    def summary(self) -> dict[str, Any]:
        """What a client or an operator is shown of the encounter, as JSON."""
        return {
            "id": f"Encounter/{self.id}",
            "identifier": self.identifier_value,
            "issuer": self.identifier_system,
            "class": self.encounter_class,
            "start": self.period_start,
        }


def validate_resource(data: Any, expected: str | None = None) -> Resource:
    """Validate JSON (or a model) as an R4(B) resource, of type `expected` if given."""
    if isinstance(data, Resource):
        data = data.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not isinstance(data, Mapping) or not isinstance(data.get("resourceType"), str):
        raise ResourceInvalid("not a FHIR resource (no resourceType)")
    resource_type = data["resourceType"]
    if expected and resource_type != expected:
        raise ResourceInvalid(f"expected a {expected}, got a {resource_type}")
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, LookupError):
        raise ResourceInvalid(f"{resource_type!r} is not an R4 resource type") from None
    try:
        return model.model_validate(data)
    except (ValueError, KeyError, TypeError) as exc:
        # pydantic's ValidationError is a ValueError; polymorphic entries of an
        # unknown type surface as KeyError from fhir.resources' registry.
        raise ResourceInvalid(f"invalid {resource_type}: {_short(exc)}") from None


def patient_record(patient: Patient) -> PatientRecord:
    return PatientRecord(
        id=str(patient.id),
        identifiers=tuple(
            Identifier(system=i.system, value=i.value) for i in patient.identifier or () if i.value
        ),
        name=_person_name(patient),
        birth_date=patient.birthDate if isinstance(patient.birthDate, datetime.date) else None,
        sex=_SEX.get(patient.gender or "", ""),
        # Patient.active is "assumed true" when absent (R4 patient.html#Patient.active).
        active=patient.active is not False,
    )


def order_record(order: ServiceRequest) -> OrderRecord:
    accession = next((i for i in order.identifier or () if _has_type(i, "ACSN")), None)
    return OrderRecord(
        id=str(order.id),
        status=order.status,
        patient_reference=order.subject.reference if order.subject else None,
        accession_number=accession.value if accession else None,
        accession_issuer=_issuer(accession) if accession else None,
        study_instance_uid=_study_instance_uid(order),
        code_text=_concept_text(order.code),
        authored_on=_fhir_datetime(order.authoredOn),
        requester=_reference_text(order.requester),
    )


def encounter_record(encounter: Encounter) -> EncounterRecord:
    identifier = next(iter(encounter.identifier or ()), None)
    return EncounterRecord(
        id=str(encounter.id),
        status=encounter.status,
        patient_reference=encounter.subject.reference if encounter.subject else None,
        identifier_value=identifier.value if identifier else None,
        identifier_system=identifier.system if identifier else None,
        encounter_class=encounter.class_fhir.code if encounter.class_fhir else None,
        period_start=_fhir_datetime(encounter.period.start if encounter.period else None),
    )


def _person_name(patient: Patient) -> str:
    names = patient.name or []
    # HumanName.use (R4 datatypes.html#HumanName): the official name first.
    chosen = next((n for n in names if n.use == "official"), None)
    chosen = chosen or next((n for n in names if n.use in (None, "usual")), None)
    chosen = chosen or (names[0] if names else None)
    if chosen is None:
        return ""
    given = list(chosen.given or [])
    components = [
        chosen.family or "",
        given[0] if given else "",
        " ".join(given[1:]),
        " ".join(chosen.prefix or []),
        " ".join(chosen.suffix or []),
    ]
    # "^" and "=" delimit PN components and groups; "\" separates values.
    cleaned = [re.sub(r"[\^=\\]", " ", part).strip() for part in components]
    return "^".join(cleaned).rstrip("^")


def _has_type(identifier: FhirIdentifier, code: str) -> bool:
    codings = identifier.type.coding if identifier.type and identifier.type.coding else []
    return any(c.system == V2_0203 and c.code == code for c in codings)


def _issuer(identifier: FhirIdentifier) -> str | None:
    if identifier.assigner and identifier.assigner.display:
        return identifier.assigner.display
    return identifier.system


def _study_instance_uid(order: ServiceRequest) -> str | None:
    for identifier in order.identifier or ():
        if identifier.system != DICOM_UID_SYSTEM or not identifier.value:
            continue
        uid = identifier.value.removeprefix("urn:oid:")
        if len(uid) <= 64 and _UID.match(uid):
            return uid
        # A malformed UID must not reach a DICOM object; the order stays usable.
        logger.warning("ServiceRequest/%s: ignoring malformed Study Instance UID", order.id)
    return None


def _concept_text(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    return next((c.display for c in concept.coding or () if c.display), None)


def _reference_text(reference: Reference | None) -> str | None:
    if reference is None:
        return None
    return reference.display or reference.reference


def _fhir_datetime(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def _short(exc: Exception, limit: int = 600) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
