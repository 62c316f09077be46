"""Telling the EMR a capture is archived: a DocumentReference (or R4 Media) and an ImagingStudy.

Sent as one transaction Bundle (FHIR R4 http.html#transaction). Both entries
are conditional creates keyed by DICOM UIDs, so a retried notice creates
nothing twice. Only captures matched against the EMR are announced: the
references come from the match step.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.db.models import F
from pydicom import dcmread

from encapsulate import parse_context
from hub.captures.models import Capture, CaptureStatus
from hub.captures.states import capture_update
from hub.captures.storage import data_path
from hub.emr.client import FhirError, FhirUnavailable
from hub.emr.factory import fhir_client_from_settings
from hub.emr.wound_size import photo_instances, sr_series, wound_entries
from hub.retry import RetryPolicy

log = logging.getLogger(__name__)

DICOM_UID = "urn:dicom:uid"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
# LOINC 72170-4 "Photographic image"; 18748-4 "Diagnostic imaging study" for the rest.
PHOTO_TYPE = {"system": LOINC, "code": "72170-4", "display": "Photographic image"}
IMAGING_TYPE = {"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}
ACCESSION_TYPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]
}
WADO_RS = {
    "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
    "code": "dicom-wado-rs",
}
# What a WADO-RS retrieve answers (PS3.18 10.4): the instances as a multipart body.
WADO_CONTENT_TYPE = 'multipart/related; type="application/dicom"'
VIEWER_CONTENT_TYPE = "text/html"
URI = "urn:ietf:rfc:3986"


def _oid(uid: str) -> str:
    return f"urn:oid:{uid}"


def full_url(namespace: UUID, name: str) -> str:
    """A transaction entry's fullUrl: an RFC 4122 UUID URN, the same for the same name."""
    return f"urn:uuid:{uuid.uuid5(namespace, name)}"


def wado_root(capture: Capture) -> str | None:
    """The archive's DICOMweb root (PS3.18 8.2): from the study URL the archive
    answered STOW-RS with, else from HUB_STOWRS_URL (the root's /studies)."""
    delivered = capture.deliveries.exclude(retrieve_url="").values_list("retrieve_url", flat=True)
    for url in delivered:
        root, found, _ = url.partition("/studies/")
        if found:
            return root
    if settings.HUB_STOWRS_URL:
        return settings.HUB_STOWRS_URL.rstrip("/").removesuffix("/studies")
    return None


def _attachment_link(capture: Capture, kind: str, root: str | None) -> dict[str, str]:
    """Where the capture can be seen, with the content type that URL serves: the
    viewer's page (HTML) for a DocumentReference when there is one, else WADO-RS
    (the study, or for R4 Media the instance itself)."""
    if kind != "media" and settings.HUB_VIEWER_URL:
        return {
            "contentType": VIEWER_CONTENT_TYPE,
            "url": f"{settings.HUB_VIEWER_URL}{capture.study_instance_uid}",
        }
    if root is not None:
        study = f"{root}/studies/{capture.study_instance_uid}"
        url = (
            f"{study}/series/{capture.series_instance_uid}/instances/{capture.sop_instance_uid}"
            if kind == "media"
            else study
        )
        return {"contentType": WADO_CONTENT_TYPE, "url": url}
    if settings.HUB_VIEWER_URL:
        return {
            "contentType": VIEWER_CONTENT_TYPE,
            "url": f"{settings.HUB_VIEWER_URL}{capture.study_instance_uid}",
        }
    return {"contentType": "application/dicom"}  # no link: what the capture is


def _endpoint(root: str) -> dict[str, Any]:
    """The archive as a WADO-RS Endpoint (FHIR R4 Endpoint; ImagingStudy.endpoint)."""
    return {
        "resourceType": "Endpoint",
        "status": "active",
        "identifier": [{"system": URI, "value": root}],
        "connectionType": WADO_RS,
        "name": "DICOMweb WADO-RS",
        "payloadType": [{"text": "DICOM"}],
        "payloadMimeType": ["application/dicom"],
        "address": root,
    }


def _accession(order: Any) -> dict[str, Any] | None:
    """The accession number as an ImagingStudy identifier (type ACSN, HL7 v2-0203)."""
    if order is None or not order.accession_number:
        return None
    identifier: dict[str, Any] = {"type": ACCESSION_TYPE, "value": order.accession_number}
    oid = settings.HUB_XDS_ASSIGNING_AUTHORITIES.get(order.issuer or "")
    if oid:
        identifier["system"] = f"urn:oid:{oid}"
    elif order.issuer:
        identifier["assigner"] = {"display": order.issuer}
    return identifier


def _modality(instances: list[Any]) -> str:
    """The modality of what was written, read back from the first instance's file."""
    for instance in instances:
        try:
            return str(dcmread(data_path(instance.path), stop_before_pixels=True).Modality)
        except (OSError, AttributeError):
            continue
    return "XC"


def _body_site(context_json: dict[str, Any]) -> dict[str, Any] | None:
    site = context_json.get("body_site")
    if not site or not site["code"].startswith("SCT:"):
        return None
    coding = {"system": SNOMED, "code": site["code"].removeprefix("SCT:")}
    if site.get("meaning"):
        coding["display"] = site["meaning"]
    return {"coding": [coding]}


def merge_series(study: dict[str, Any], series: dict[str, Any]) -> dict[str, Any]:
    """The EMR's ImagingStudy with this capture's series and instances added once."""
    merged = {k: v for k, v in study.items() if k != "meta"}
    all_series = [dict(s) for s in merged.get("series", [])]
    same = next((s for s in all_series if s["uid"] == series["uid"]), None)
    if same is None:
        all_series.append(series)
    else:
        known = {i["uid"] for i in same.get("instance", [])}
        same["instance"] = [
            *same.get("instance", []),
            *(i for i in series["instance"] if i["uid"] not in known),
        ]
    merged["series"] = all_series
    merged["numberOfSeries"] = len(all_series)
    merged["numberOfInstances"] = sum(len(s.get("instance", [])) for s in all_series)
    return merged


def notice_bundle(
    capture: Capture,
    references: dict[str, str],
    kind: str,
    existing_study: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The transaction Bundle announcing `capture` (kind: documentreference or media).

    With `existing_study` (the EMR's ImagingStudy for this Study Instance
    UID, when other captures joined the study first) the study is updated
    with this capture's series rather than created.
    """
    context = parse_context(capture.context)
    written = list(capture.instances.all())
    instances = photo_instances(capture, written)
    modality = {"system": DCM, "code": _modality(instances)}
    created = (context.captured_at or capture.created_at).astimezone(UTC).isoformat()
    subject = {"reference": references["patient"]}
    based_on = [{"reference": references["order"]}] if "order" in references else []
    encounter = {"reference": references["encounter"]} if "encounter" in references else None
    body_site = _body_site(capture.context)
    root = wado_root(capture)
    attachment: dict[str, Any] = {
        **_attachment_link(capture, kind, root),
        "title": context.description or f"{context.specialty.value} capture",
        "creation": created,
    }
    study_ref = f"urn:uuid:{capture.id}"
    endpoint_ref = full_url(uuid.NAMESPACE_URL, root) if root else None
    study_ids = [{"system": DICOM_UID, "value": _oid(capture.study_instance_uid)}]
    if accession := _accession(context.order):
        study_ids.append(accession)
    study: dict[str, Any] = {
        "resourceType": "ImagingStudy",
        "status": "available",
        "identifier": study_ids,
        "subject": subject,
        "started": created,
        "series": [
            {
                "uid": capture.series_instance_uid,
                "modality": modality,
                **({"bodySite": body_site["coding"][0]} if body_site else {}),
                "instance": [
                    {
                        "uid": instance.sop_instance_uid,
                        "sopClass": {
                            "system": "urn:ietf:rfc:3986",
                            "code": _oid(instance.sop_class_uid),
                        },
                    }
                    for instance in instances
                ],
            }
        ],
    }
    if report_series := sr_series(capture, written):
        study["series"].append(report_series)
    if based_on:
        study["basedOn"] = based_on
    if encounter:
        study["encounter"] = encounter
    if endpoint_ref:
        study["endpoint"] = [{"reference": endpoint_ref}]
    identifier = [{"system": DICOM_UID, "value": _oid(capture.sop_instance_uid)}]
    if kind == "media":
        announcement: dict[str, Any] = {
            "resourceType": "Media",
            "status": "completed",
            "identifier": identifier,
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/media-type",
                        "code": "video" if capture.mime_type.startswith("video/") else "image",
                    }
                ]
            },
            "subject": subject,
            "createdDateTime": created,
            "content": attachment,
            "partOf": [{"reference": study_ref}],
        }
        if based_on:
            announcement["basedOn"] = based_on
        if encounter:
            announcement["encounter"] = encounter
        if body_site:
            announcement["bodySite"] = body_site
    else:
        doc_context: dict[str, Any] = {"period": {"start": created}}
        if encounter:
            doc_context["encounter"] = [encounter]
        related = [*based_on, {"reference": study_ref}]
        doc_context["related"] = related
        if body_site:
            doc_context["event"] = [body_site]
        announcement = {
            "resourceType": "DocumentReference",
            "status": "current",
            "masterIdentifier": identifier[0],
            "type": {
                "coding": [PHOTO_TYPE if capture.mime_type.startswith("image/") else IMAGING_TYPE]
            },
            "subject": subject,
            "date": datetime.now(UTC).isoformat(),
            "description": context.description or "",
            "content": [{"attachment": attachment}],
            "context": doc_context,
        }
        if not announcement["description"]:
            del announcement["description"]
    announce_query = f"identifier={DICOM_UID}|{_oid(capture.sop_instance_uid)}"
    if existing_study is not None:
        merged = existing_study
        for series in study["series"]:
            merged = merge_series(merged, series)
        if endpoint_ref and not merged.get("endpoint"):
            merged["endpoint"] = study["endpoint"]
        study_entry = {
            "fullUrl": study_ref,
            "resource": merged,
            "request": {"method": "PUT", "url": f"ImagingStudy/{existing_study['id']}"},
        }
    else:
        study_entry = {
            "fullUrl": study_ref,
            "resource": study,
            "request": {
                "method": "POST",
                "url": "ImagingStudy",
                "ifNoneExist": f"identifier={DICOM_UID}|{_oid(capture.study_instance_uid)}",
            },
        }
    entries = [
        study_entry,
        {
            "fullUrl": full_url(uuid.NAMESPACE_OID, capture.sop_instance_uid),
            "resource": announcement,
            "request": {
                "method": "POST",
                "url": announcement["resourceType"],
                "ifNoneExist": announce_query,
            },
        },
    ]
    announcement_ref = entries[1]["fullUrl"]
    entries.extend(wound_entries(capture, references, [study_ref, announcement_ref]))
    if root and endpoint_ref:
        entries.insert(
            0,
            {
                "fullUrl": endpoint_ref,
                "resource": _endpoint(root),
                "request": {
                    "method": "POST",
                    "url": "Endpoint",
                    "ifNoneExist": f"identifier={URI}|{quote(root, safe='')}",
                },
            },
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _series_listed(studies: list[dict[str, Any]], capture: Capture) -> bool:
    return any(
        series.get("uid") == capture.series_instance_uid
        for study in studies
        for series in study.get("series", [])
    )


def writeback_retry_policy() -> RetryPolicy:
    return RetryPolicy(
        base_seconds=settings.HUB_WRITEBACK_RETRY_BASE_SECONDS,
        max_seconds=settings.HUB_WRITEBACK_RETRY_MAX_SECONDS,
        max_attempts=settings.HUB_WRITEBACK_MAX_ATTEMPTS,
    )


def capture_notify_emr(*, capture_id: UUID | str) -> float | None:
    """Announces an archived capture; returns seconds until a retry, if any."""
    kind = settings.HUB_FHIR_WRITEBACK
    capture = Capture.objects.get(id=capture_id)
    references = (capture.match_report or {}).get("references") or {}
    if kind == "off" or capture.status != CaptureStatus.ARCHIVED or "patient" not in references:
        return None
    client = fhir_client_from_settings()
    if client is None:
        return None
    capture_update(capture.id, emr_attempts=F("emr_attempts") + 1)
    try:
        with client:
            existing = client.find_imaging_studies(capture.study_instance_uid)
            bundle = notice_bundle(capture, references, kind, existing[0] if existing else None)
            created = client.transaction(bundle)
            # Two captures of one study announced at once can each write the
            # study without the other's series; read it back, and go again if
            # this capture's series was lost (the next round merges it).
            if not _series_listed(client.find_imaging_studies(capture.study_instance_uid), capture):
                raise FhirUnavailable("the ImagingStudy was written concurrently; merging again")
    except FhirUnavailable as error:
        attempts = capture.emr_attempts + 1
        policy = writeback_retry_policy()
        if not policy.exhausted(attempts):
            capture_update(capture.id, emr_notice=f"waiting: {error.reason}")
            return policy.delay(attempts)
        capture_update(capture.id, emr_notice=f"gave up: {error.reason}")
        return None
    except FhirError as error:
        log.error("the EMR refused the notice for capture %s: %s", capture.id, error.reason)
        capture_update(capture.id, emr_notice=f"refused: {error.reason}")
        return None
    capture_update(capture.id, emr_notice=" ".join(created))
    return None
