"""An MHD Provide Document Bundle [ITI-65] for one original with its XDS metadata.

Follows IHE MHD 4.2 (FHIR R4 4.0.1), Comprehensive Metadata option:
profiles IHE.MHD.Comprehensive.ProvideBundle, .SubmissionSet (a List whose
``code`` is MHDlistTypes#submissionset, with the ihe-sourceId and
ihe-designationType extensions carrying sourceId and contentTypeCode) and
.DocumentReference (author and sourcePatientInfo contained). The document
travels as a Binary entry of the same transaction, or is referenced by URL;
MHD forbids ``attachment.data`` (IHE.MHD.Minimal.DocumentReference:
content.attachment.data 0..0, url 1..1).

``attachment.hash`` is the SHA-1 digest itself in base64 (FHIR R4
Attachment.hash, base64Binary) where XDS writes it in hex (ITI TF-3
4.2.3.2.10); IHE/ITI.MHD issue #248 records the difference.

Validated with fhir.resources' R4B models: fhir.resources 8 ships R5 at its
top level, R4B and STU3, but no R4; the R4B Bundle, List, DocumentReference,
Binary and Patient have R4's shape, so what validates here is R4 too.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fhir.resources.R4B.bundle import Bundle

from encapsulate.xds.metadata import DocumentEntry, ReferenceId
from encapsulate.xds.policy import Code, XdsPolicy

MHD = "https://profiles.ihe.net/ITI/MHD"
PROVIDE_BUNDLE = f"{MHD}/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle"
SUBMISSION_SET = f"{MHD}/StructureDefinition/IHE.MHD.Comprehensive.SubmissionSet"
DOCUMENT_REFERENCE = f"{MHD}/StructureDefinition/IHE.MHD.Comprehensive.DocumentReference"
SOURCE_ID = f"{MHD}/StructureDefinition/ihe-sourceId"
DESIGNATION_TYPE = f"{MHD}/StructureDefinition/ihe-designationType"
LIST_TYPES = f"{MHD}/CodeSystem/MHDlistTypes"
URI = "urn:ietf:rfc:3986"
# Patient's Sex (PS3.3 C.7.1.1) to FHIR AdministrativeGender.
GENDERS = {"M": "male", "F": "female", "O": "other"}


def _coding(code: Code) -> dict[str, str]:
    return {"system": code.system, "code": code.code, "display": code.display}


def _concept(code: Code) -> dict[str, Any]:
    return {"coding": [_coding(code)]}


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _urn_uuid(*names: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, '/'.join(names))}"


def _human_name(pn: str) -> dict[str, Any]:
    """A FHIR HumanName from the first group of a DICOM PN (family^given^middle^prefix^suffix)."""
    family, given, middle, prefix, suffix = ([*pn.split("=")[0].split("^"), "", "", "", ""])[:5]
    name: dict[str, Any] = {"text": " ".join(p for p in (prefix, given, middle, family) if p)}
    if family:
        name["family"] = family
    if given or middle:
        name["given"] = [p for p in (given, middle) if p]
    if prefix:
        name["prefix"] = [prefix]
    if suffix:
        name["suffix"] = [suffix]
    return name


def _source_patient(entry: DocumentEntry) -> dict[str, Any]:
    patient = entry.patient
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "source-patient",
        "identifier": [{"system": f"urn:oid:{entry.patient_authority}", "value": patient.id}],
    }
    if patient.name:
        resource["name"] = [_human_name(patient.name)]
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    if patient.sex:
        resource["gender"] = GENDERS[patient.sex]
    return resource


def _authors(entry: DocumentEntry) -> list[dict[str, Any]]:
    """The one author (ITI TF-3 4.2.3.1.4: authorPerson and authorInstitution of one
    author) as contained resources; the first has id ``author``. With both, a
    PractitionerRole ties the Practitioner to the Organization."""
    person = (
        {"resourceType": "Practitioner", "name": [_human_name(entry.author_person)]}
        if entry.author_person
        else None
    )
    institution = (
        {"resourceType": "Organization", "name": entry.author_institution}
        if entry.author_institution
        else None
    )
    if person and institution:
        role = {
            "resourceType": "PractitionerRole",
            "id": "author",
            "practitioner": {"reference": "#author-person"},
            "organization": {"reference": "#author-institution"},
        }
        return [
            role,
            {**person, "id": "author-person"},
            {**institution, "id": "author-institution"},
        ]
    only = person or institution
    return [{**only, "id": "author"}] if only else []


def _identifier(reference: ReferenceId) -> dict[str, Any]:
    identifier: dict[str, Any] = {
        "type": {"coding": [{"system": URI, "code": reference.type}]},
        "value": reference.value,
    }
    if reference.authority:
        identifier["system"] = f"urn:oid:{reference.authority}"
    return identifier


def _patient_entry(entry: DocumentEntry) -> dict[str, Any]:
    """The patient as a Patient of the bundle, created at the recipient unless one with
    the patientId exists (MHD ITI-65 2:3.65.4.1.2.2, the subject inside the bundle)."""
    system, value = f"urn:oid:{entry.patient_authority}", entry.patient.id
    resource = {**_source_patient(entry)}
    del resource["id"]
    return {
        "fullUrl": _urn_uuid(system, value, "patient"),
        "resource": resource,
        "request": {
            "method": "POST",
            "url": "Patient",
            "ifNoneExist": f"identifier={quote(system, safe='')}|{quote(value, safe='')}",
        },
    }


def _is_absolute(reference: str | None) -> bool:
    return bool(reference) and urlsplit(str(reference)).scheme in ("http", "https")


def _document_reference(
    entry: DocumentEntry, *, url: str, subject: dict[str, Any], submitted_at: datetime
) -> dict[str, Any]:
    authors = _authors(entry)
    attachment: dict[str, Any] = {
        "contentType": entry.mime_type,
        "language": entry.language_code,
        "url": url,
        "size": entry.size,
        "hash": base64.b64encode(entry.sha1).decode("ascii"),
        "creation": _instant(entry.creation_time),
    }
    if entry.title:
        attachment["title"] = entry.title
    context: dict[str, Any] = {
        "facilityType": _concept(entry.healthcare_facility_type_code),
        "practiceSetting": _concept(entry.practice_setting_code),
        "sourcePatientInfo": {"reference": "#source-patient"},
    }
    if entry.encounter is not None:
        context["encounter"] = [{"identifier": _identifier(entry.encounter)}]
    if entry.event_codes:
        context["event"] = [_concept(code) for code in entry.event_codes]
    if entry.service_start_time:
        context["period"] = {"start": _instant(entry.service_start_time)}
        if entry.service_stop_time:
            context["period"]["end"] = _instant(entry.service_stop_time)
    related = [r for r in entry.reference_ids if r is not entry.encounter]
    if related:
        context["related"] = [{"identifier": _identifier(r)} for r in related]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "meta": {"profile": [DOCUMENT_REFERENCE]},
        "contained": [_source_patient(entry), *authors],
        "masterIdentifier": {"use": "usual", "system": URI, "value": f"urn:oid:{entry.unique_id}"},
        "identifier": [{"use": "official", "system": URI, "value": entry.entry_uuid}],
        "status": "current",
        "type": _concept(entry.type_code),
        "category": [_concept(entry.class_code)],
        "subject": subject,
        "date": _instant(submitted_at),
        "securityLabel": [_concept(entry.confidentiality_code)],
        "content": [{"attachment": attachment, "format": _coding(entry.format_code)}],
        "context": context,
    }
    if authors:
        resource["author"] = [{"reference": "#author"}]
    if entry.title:
        resource["description"] = entry.title
    return resource


def _submission_set(
    entry: DocumentEntry,
    *,
    policy: XdsPolicy,
    subject: dict[str, Any],
    submitted_at: datetime,
    document_url: str,
) -> dict[str, Any]:
    # Derived from the entry, so a retried submission carries the same ids.
    unique_id = f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, entry.unique_id + '/submission').int}"
    resource: dict[str, Any] = {
        "resourceType": "List",
        "meta": {"profile": [SUBMISSION_SET]},
        "extension": [
            {"url": SOURCE_ID, "valueIdentifier": {"value": f"urn:oid:{policy.source_id}"}},
            {"url": DESIGNATION_TYPE, "valueCodeableConcept": _concept(entry.type_code)},
        ],
        "identifier": [
            {"use": "usual", "system": URI, "value": f"urn:oid:{unique_id}"},
            {"use": "official", "system": URI, "value": _urn_uuid(unique_id)},
        ],
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": LIST_TYPES, "code": "submissionset"}]},
        "subject": subject,
        "date": _instant(submitted_at),
        "entry": [{"item": {"reference": document_url}}],
    }
    authors = _authors(entry)
    # List.source takes a Practitioner or PractitionerRole, not an Organization.
    if authors and authors[0]["resourceType"] != "Organization":
        resource["contained"] = authors
        resource["source"] = {"reference": "#author"}
    return resource


def mhd_provide_bundle(
    entry: DocumentEntry,
    *,
    policy: XdsPolicy,
    attachment_url: str | None = None,
    data: bytes | None = None,
    patient_reference: str | None = None,
    submitted_at: datetime | None = None,
) -> dict[str, Any]:
    """The ITI-65 transaction Bundle (JSON-ready dict) delivering ``entry``'s document.

    Give exactly one of ``data`` (the document's bytes, sent as a Binary entry
    that the attachment points to by its urn:uuid; they must match the entry's
    hash and size) or ``attachment_url`` (where the recipient fetches it).
    ``patient_reference`` is the patient's absolute URL on a server the
    recipient can reach (e.g. found with PDQm or PIXm); a relative reference
    (an EMR's ``Patient/123``) would not resolve at the recipient, so without an
    absolute one the subject is a Patient entry of the bundle (``_patient_entry``).
    """
    if (data is None) == (attachment_url is None):
        raise ValueError("give exactly one of data or attachment_url")
    if data is not None and (
        len(data) != entry.size or hashlib.sha1(data, usedforsecurity=False).digest() != entry.sha1
    ):
        raise ValueError("data differs from the document the entry describes (size or hash)")
    submitted_at = submitted_at or datetime.now(UTC)
    patient = None if _is_absolute(patient_reference) else _patient_entry(entry)
    subject = {"reference": patient["fullUrl"] if patient else str(patient_reference)}
    binary_url = _urn_uuid(entry.unique_id, "binary")
    url = binary_url if data is not None else str(attachment_url)
    document = _document_reference(entry, url=url, subject=subject, submitted_at=submitted_at)
    submission = _submission_set(
        entry,
        policy=policy,
        subject=subject,
        submitted_at=submitted_at,
        document_url=entry.entry_uuid,
    )
    entries = [
        {"fullUrl": submission["identifier"][1]["value"], "resource": submission},
        {"fullUrl": entry.entry_uuid, "resource": document},
    ]
    if data is not None:
        binary = {
            "resourceType": "Binary",
            "contentType": entry.mime_type,
            "data": base64.b64encode(data).decode("ascii"),
        }
        entries.append({"fullUrl": binary_url, "resource": binary})
    for item in entries:
        item["request"] = {"method": "POST", "url": item["resource"]["resourceType"]}
    if patient is not None:
        entries.append(patient)
    bundle = {
        "resourceType": "Bundle",
        "meta": {"profile": [PROVIDE_BUNDLE]},
        "type": "transaction",
        "timestamp": _instant(submitted_at),
        "entry": entries,
    }
    # Raises pydantic's ValidationError on a bundle FHIR R4(B) would reject.
    Bundle.model_validate(bundle)
    return bundle
