"""The EMR's view of a measured wound photo (docs/wound-measurement.md): the SR
Measurement Report as a series of its own in the ImagingStudy, and the WoundSize
Observation derived from the photo's ImagingStudy and DocumentReference (or Media).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from encapsulate import parse_context
from hub.captures.models import Capture, DicomInstance

DCM = "http://dicom.nema.org/resources/ontology/DCM"
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


def observation_entry(
    capture: Capture, references: dict[str, str], derived_from: list[str]
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
        identifier=identifier,
    )
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, identifier + '/observation')}",
        "resource": resource,
        "request": {
            "method": "POST",
            "url": "Observation",
            "ifNoneExist": f"identifier=urn:ietf:rfc:3986|{identifier}",
        },
    }
