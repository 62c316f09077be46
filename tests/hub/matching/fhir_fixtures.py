"""FHIR R4 fixture resources for the matching tests, built with fhir.resources.

One transaction Bundle holds a small hospital: two patients with MRNs, their
imaging orders (active and completed, with accession numbers and, for some, a
Study Instance UID) and encounters (in progress and finished). Entries refer
to each other by `urn:uuid:` fullUrls, which the FHIR engine rewrites to the
ids it assigns (FHIR R4 http.html#transaction).

fhir.resources 8 has no R4 package; R4B is its closest release and shares
these resources' shape with R4 (see hub/matching/fhir_models.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

MRN_SYSTEM = "urn:oid:1.2.3.4.5.HOSP.MRN"
ACCESSION_SYSTEM = "urn:oid:1.2.3.4.5.HOSP.ACSN"
ACCESSION_ISSUER = "HOSP RADIOLOGY"
VISIT_SYSTEM = "urn:oid:1.2.3.4.5.HOSP.VISIT"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
DICOM_UID_SYSTEM = "urn:dicom:uid"
SNOMED = "http://snomed.info/sct"
IMAGING = (SNOMED, "363679005")  # Imaging (procedure)
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


@dataclass
class Hospital:
    """The fixture Bundle and the values tests look up and assert on."""

    bundle: Bundle
    mrns: dict[str, str] = field(default_factory=dict)
    accessions: dict[str, str] = field(default_factory=dict)
    study_uids: dict[str, str] = field(default_factory=dict)
    visits: dict[str, str] = field(default_factory=dict)


def patient(*, mrn: str, family: str, given: list[str], birth_date: str, gender: str) -> Patient:
    """A Patient (R4 patient.html) with an MR-typed identifier in the hospital's system."""
    return Patient.model_validate(
        {
            "resourceType": "Patient",
            "active": True,
            "identifier": [
                {
                    "use": "usual",
                    "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                    "system": MRN_SYSTEM,
                    "value": mrn,
                }
            ],
            "name": [{"use": "official", "family": family, "given": given}],
            "birthDate": birth_date,
            "gender": gender,
        }
    )


def imaging_order(
    *,
    subject: str,
    status: str,
    accession: str,
    code_text: str,
    authored_on: str,
    study_uid: str | None = None,
    requester: str = "Dr. Ada Wound",
) -> ServiceRequest:
    """An imaging ServiceRequest (R4 servicerequest.html).

    The accession number is the identifier typed v2-0203 ACSN, assigned by the
    radiology department; the Study Instance UID, when the order carries one,
    is an identifier in system `urn:dicom:uid` written `urn:oid:<uid>`.
    """
    identifiers = [
        {
            "type": {"coding": [{"system": V2_0203, "code": "ACSN"}]},
            "system": ACCESSION_SYSTEM,
            "value": accession,
            "assigner": {"display": ACCESSION_ISSUER},
        }
    ]
    if study_uid:
        identifiers.append({"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{study_uid}"})
    return ServiceRequest.model_validate(
        {
            "resourceType": "ServiceRequest",
            "identifier": identifiers,
            "status": status,
            "intent": "order",
            "category": [{"coding": [{"system": IMAGING[0], "code": IMAGING[1]}]}],
            "code": {"text": code_text},
            "subject": {"reference": subject},
            "authoredOn": authored_on,
            "requester": {"display": requester},
        }
    )


def encounter(
    *, subject: str, status: str, visit: str, class_code: str, start: str, end: str | None = None
) -> Encounter:
    """An Encounter (R4 encounter.html) with a visit number (v2-0203 VN)."""
    period = {"start": start} | ({"end": end} if end else {})
    return Encounter.model_validate(
        {
            "resourceType": "Encounter",
            "identifier": [
                {
                    "type": {"coding": [{"system": V2_0203, "code": "VN"}]},
                    "system": VISIT_SYSTEM,
                    "value": visit,
                }
            ],
            "status": status,
            "class": {"system": V3_ACT_CODE, "code": class_code},
            "subject": {"reference": subject},
            "period": period,
        }
    )


def transaction(resources: list[tuple[str, Resource]]) -> Bundle:
    """A transaction Bundle POSTing each (fullUrl, resource) pair."""
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                BundleEntry(
                    fullUrl=full_url,
                    resource=resource,
                    request=BundleEntryRequest(method="POST", url=resource.get_resource_type()),
                )
                for full_url, resource in resources
            ],
        }
    )


def hospital() -> Hospital:
    """Two patients, four orders (two active) and three encounters (one in progress).

    MRNs and accessions are unique per call, so several fixtures can share one engine.
    """
    tag = uuid.uuid4().hex[:8].upper()
    jane, john = (f"urn:uuid:{uuid.uuid4()}" for _ in range(2))
    mrns = {"jane": f"MRN-{tag}-1", "john": f"MRN-{tag}-2"}
    accessions = {
        "jane_wound": f"A{tag}1",
        "jane_derm": f"A{tag}2",
        "jane_done": f"A{tag}3",
        "john_endo": f"A{tag}4",
    }
    study_uids = {"jane_wound": f"2.25.{uuid.uuid4().int}"}
    visits = {"jane_now": f"V{tag}1", "jane_past": f"V{tag}2", "john_past": f"V{tag}3"}
    resources: list[tuple[str, Resource]] = [
        (
            jane,
            patient(
                mrn=mrns["jane"],
                family="Doe",
                given=["Jane", "Q"],
                birth_date="1970-01-02",
                gender="female",
            ),
        ),
        (
            john,
            patient(
                mrn=mrns["john"],
                family="Roe",
                given=["John"],
                birth_date="1955-12-31",
                gender="male",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            imaging_order(
                subject=jane,
                status="active",
                accession=accessions["jane_wound"],
                study_uid=study_uids["jane_wound"],
                code_text="Wound photography, left heel",
                authored_on="2024-05-01T09:30:00+02:00",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            imaging_order(
                subject=jane,
                status="active",
                accession=accessions["jane_derm"],
                code_text="Dermatology photography",
                authored_on="2024-05-02",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            imaging_order(
                subject=jane,
                status="completed",
                accession=accessions["jane_done"],
                code_text="Wound photography, sacrum",
                authored_on="2024-03-10T08:00:00Z",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            imaging_order(
                subject=john,
                status="active",
                accession=accessions["john_endo"],
                code_text="Endoscopy stills",
                authored_on="2024-05-03T11:00:00Z",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            encounter(
                subject=jane,
                status="in-progress",
                visit=visits["jane_now"],
                class_code="IMP",
                start="2024-05-01T08:00:00+02:00",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            encounter(
                subject=jane,
                status="finished",
                visit=visits["jane_past"],
                class_code="AMB",
                start="2024-02-01T08:00:00Z",
                end="2024-02-01T09:00:00Z",
            ),
        ),
        (
            f"urn:uuid:{uuid.uuid4()}",
            encounter(
                subject=john,
                status="finished",
                visit=visits["john_past"],
                class_code="AMB",
                start="2024-01-05T10:00:00Z",
                end="2024-01-05T10:30:00Z",
            ),
        ),
    ]
    return Hospital(
        bundle=transaction(resources),
        mrns=mrns,
        accessions=accessions,
        study_uids=study_uids,
        visits=visits,
    )
