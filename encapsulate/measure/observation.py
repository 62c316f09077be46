"""The wound's size as a FHIR R4 Observation: the WoundSize panel of HL7's skin and wound IG.

Profile and codes follow the HL7 Lower Extremity Skin Wound Assessment IG
(http://hl7.org/fhir/us/lower-extremity-skin-wound-assessment, STU1 CI
build 0.1.0): profile ``StructureDefinition/WoundSize`` and its example
``Observation-woundsize-example``, which code the panel LOINC 72287-6
"Wound size panel" with components 39126-8 "Length of Wound", 39125-0
"Width of Wound" and 89260-4 "Area of wound" in UCUM cm and cm2, category
``exam``. The IG has no perimeter component, so the perimeter stays in the
DICOM SR only; depth (39127-6) cannot be measured from a photo.

Validated with fhir.resources' R4B Observation, which has R4's shape (see
``encapsulate.xds.mhd``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fhir.resources.R4B.observation import Observation

from encapsulate.context.capture import BodySite
from encapsulate.errors import ContextError
from encapsulate.measure.photo_measure import WoundMeasurement

WOUND_SIZE_PROFILE = (
    "http://hl7.org/fhir/us/lower-extremity-skin-wound-assessment/StructureDefinition/WoundSize"
)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
WOUND_SIZE_PANEL = ("72287-6", "Wound size panel")
LENGTH = ("39126-8", "Length of Wound")
WIDTH = ("39125-0", "Width of Wound")
AREA = ("89260-4", "Area of wound")
# Context body-site schemes (DICOM coding scheme designators) to FHIR systems.
_SYSTEMS = {"SCT": SNOMED, "SRT": SNOMED}
_SIDES = {"L": "left", "R": "right", "B": "both sides", "U": None}


def _loinc(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}]}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 2), "unit": unit, "system": UCUM, "code": unit}


def _body_site(site: BodySite) -> dict[str, Any]:
    system = _SYSTEMS.get(site.scheme)
    if system is None:
        raise ContextError(f"body site scheme {site.scheme} has no FHIR code system here")
    coding: dict[str, Any] = {"system": system, "code": site.value}
    if site.meaning:
        coding["display"] = site.meaning
    concept: dict[str, Any] = {"coding": [coding]}
    side = _SIDES.get(site.laterality or "U")
    if site.meaning:
        concept["text"] = f"{site.meaning}, {side}" if side else site.meaning
    return concept


def wound_size_observation(
    measurement: WoundMeasurement,
    *,
    subject: str,
    effective: datetime,
    derived_from: Sequence[str],
    encounter: str | None = None,
    body_site: BodySite | None = None,
    focus: str | None = None,
    identifier: str | None = None,
) -> dict[str, Any]:
    """The WoundSize Observation for ``measurement``, as a JSON-ready dict.

    References are literal FHIR references (``Patient/123``): ``subject``
    the patient; ``derived_from`` the photo's DocumentReference and/or
    ImagingStudy (and the SR's); ``encounter`` the visit; ``focus`` the
    wound's Condition or BodyStructure when the EMR has one. ``identifier``
    (e.g. ``urn:oid:`` + the SR's SOP Instance UID) makes a retried
    write-back recognisable. Raises ``ContextError`` when it does not
    validate.
    """
    if effective.tzinfo is None:
        # FHIR dateTime: a time of day needs its offset from UTC.
        raise ContextError("the Observation's effective time needs its timezone")
    if not derived_from:
        raise ContextError("a wound size Observation is derived from the photo: name it")
    size = measurement.size
    method = (
        "Photo with a calibration marker; outline found automatically"
        if measurement.method == "auto"
        else "Photo with a calibration marker; outline traced"
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [WOUND_SIZE_PROFILE]},
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "exam", "display": "Exam"}]}],
        "code": _loinc(WOUND_SIZE_PANEL),
        "subject": {"reference": subject},
        "effectiveDateTime": effective.isoformat(timespec="seconds"),
        "method": {"text": method},
        "derivedFrom": [{"reference": r} for r in derived_from],
        "component": [
            {"code": _loinc(LENGTH), "valueQuantity": _quantity(size.length_cm, "cm")},
            {"code": _loinc(WIDTH), "valueQuantity": _quantity(size.width_cm, "cm")},
            {"code": _loinc(AREA), "valueQuantity": _quantity(size.area_cm2, "cm2")},
        ],
    }
    if identifier:
        resource["identifier"] = [{"system": "urn:ietf:rfc:3986", "value": identifier}]
    if encounter is not None:
        resource["encounter"] = {"reference": encounter}
    if body_site is not None:
        resource["bodySite"] = _body_site(body_site)
    if focus is not None:
        resource["focus"] = [{"reference": focus}]
    try:
        Observation.model_validate(resource)
    except ValueError as error:
        raise ContextError(f"the wound size Observation does not validate: {error}") from None
    return resource
