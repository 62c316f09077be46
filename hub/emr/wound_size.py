"""The EMR's view of a measured wound photo (docs/wound-measurement.md): the SR
Measurement Report as a series of its own in the ImagingStudy, and the WoundSize
Observation derived from the photo's ImagingStudy and DocumentReference (or Media),
whose ``focus`` is the wound's BodyStructure: one per wound, created with the first
notice and found again by the wound's Tracking UID for every later one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bodystructure import BodyStructure

from encapsulate import parse_context
from hub.captures.models import Capture, DicomInstance
from hub.wounds.models import Wound, WoundPhoto

DCM = "http://dicom.nema.org/resources/ontology/DCM"
SNOMED = "http://snomed.info/sct"
URI = "urn:ietf:rfc:3986"
WOUND_MORPHOLOGY = {"system": SNOMED, "code": "13924000", "display": "Wound"}
# Image Laterality to SNOMED CT (the qualifiers of FHIR's bodySite laterality).
_SIDES = {
    "L": {"system": SNOMED, "code": "7771000", "display": "Left"},
    "R": {"system": SNOMED, "code": "24028007", "display": "Right"},
    "B": {"system": SNOMED, "code": "51440002", "display": "Right and left"},
}
MEASURED = "measured"  # hub.pipeline.measure.MEASURED (the pipeline sits above the EMR)


@dataclass(frozen=True)
class _Size:
    area_cm2: float
    length_cm: float
    width_cm: float
    perimeter_cm: float
    mm_per_px: float


@dataclass(frozen=True)
class _Measured:
    """What `wound_size_observation` reads of a measurement, from the capture's JSON."""

    size: _Size
    method: str


def sr_uids(capture: Capture) -> dict[str, str] | None:
    if capture.measurement_state != MEASURED or not capture.measurement_uids:
        return None
    return capture.measurement_uids


def photo_instances(capture: Capture, instances: list[DicomInstance]) -> list[DicomInstance]:
    """The instances in the photo's own series (the SR has its own)."""
    uids = sr_uids(capture) or {}
    return [i for i in instances if i.sop_instance_uid != uids.get("sop_instance_uid")]


def sr_series(capture: Capture, instances: list[DicomInstance]) -> dict[str, Any] | None:
    """The ImagingStudy series of the capture's SR, if it was measured."""
    uids = sr_uids(capture)
    if uids is None:
        return None
    sr = [i for i in instances if i.sop_instance_uid == uids["sop_instance_uid"]]
    if not sr:
        return None
    return {
        "uid": uids["series_instance_uid"],
        "modality": {"system": DCM, "code": "SR"},
        "instance": [
            {
                "uid": sr[0].sop_instance_uid,
                "sopClass": {
                    "system": "urn:ietf:rfc:3986",
                    "code": f"urn:oid:{sr[0].sop_class_uid}",
                },
            }
        ],
    }


def body_structure_entry(wound: Wound, patient: str) -> dict[str, Any]:
    """The transaction entry creating the wound's BodyStructure once (keyed by its
    Tracking UID): a transaction resolves a conditional create that matches to the
    existing resource, and the Observation's ``focus`` with it (FHIR R4 3.1.0.11.2)."""
    identifier = f"urn:oid:{wound.tracking_uid}"
    resource: dict[str, Any] = {
        "resourceType": "BodyStructure",
        "identifier": [{"system": URI, "value": identifier}],
        "active": True,
        "morphology": {"coding": [WOUND_MORPHOLOGY]},
        "description": wound.tracking_identifier,
        "patient": {"reference": patient},
    }
    site = wound.body_site or {}
    if str(site.get("code", "")).startswith("SCT:"):
        coding = {"system": SNOMED, "code": site["code"].removeprefix("SCT:")}
        if site.get("meaning"):
            coding["display"] = site["meaning"]
        resource["location"] = {"coding": [coding]}
        if side := _SIDES.get(site.get("laterality") or ""):
            resource["locationQualifier"] = [{"coding": [side]}]
    BodyStructure.model_validate(resource)
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, identifier + '/bodystructure')}",
        "resource": resource,
        "request": {
            "method": "POST",
            "url": "BodyStructure",
            "ifNoneExist": f"identifier={URI}|{identifier}",
        },
    }


def wound_entries(
    capture: Capture, references: dict[str, str], derived_from: list[str]
) -> list[dict[str, Any]]:
    """The wound's BodyStructure and the WoundSize Observation focused on it; none for
    a capture that was not measured."""
    wound = Wound.objects.filter(
        id__in=WoundPhoto.objects.filter(capture=capture).values("wound_id")
    ).first()
    structure = body_structure_entry(wound, references["patient"]) if wound else None
    observation = observation_entry(
        capture, references, derived_from, focus=structure["fullUrl"] if structure else None
    )
    if observation is None:
        return []
    return [structure, observation] if structure else [observation]


def observation_entry(
    capture: Capture,
    references: dict[str, str],
    derived_from: list[str],
    *,
    focus: str | None = None,
) -> dict[str, Any] | None:
    """The transaction entry creating the WoundSize Observation once (keyed by the SR's UID)."""
    from encapsulate.measure.observation import wound_size_observation

    uids = sr_uids(capture)
    if uids is None or not capture.measurement:
        return None
    data = capture.measurement
    measured = _Measured(
        size=_Size(
            area_cm2=data["area_cm2"],
            length_cm=data["length_cm"],
            width_cm=data["width_cm"],
            perimeter_cm=data["perimeter_cm"],
            mm_per_px=data["mm_per_px"],
        ),
        method=data["method"],
    )
    identifier = f"urn:oid:{uids['sop_instance_uid']}"
    resource = wound_size_observation(
        measured,  # type: ignore[arg-type]
        subject=references["patient"],
        effective=datetime.fromisoformat(uids["measured_at"]),
        derived_from=derived_from,
        encounter=references.get("encounter"),
        body_site=parse_context(capture.context).body_site,
        focus=focus,
        identifier=identifier,
    )
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, identifier + '/observation')}",
        "resource": resource,
        "request": {
            "method": "POST",
            "url": "Observation",
            "ifNoneExist": f"identifier={URI}|{identifier}",
        },
    }
