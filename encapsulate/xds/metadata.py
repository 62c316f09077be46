"""An original kept as is, described by XDS DocumentEntry metadata (IHE ITI TF-3 4.2.3.2).

``describe_original`` gives every attribute the Comprehensive Metadata option
requires (ITI TF-3 4.3.1, Table 4.3.1-3: R for the Document Source) plus the
optional ones the hub knows: author, serviceStartTime / serviceStopTime,
eventCodeList and referenceIdList (CXi, ITI TF-3 Table 4.2.3.1.7-2). ``mhd``
turns an entry into an MHD ITI-65 Bundle.

Identifiers are stable across retries: uniqueId is the SOP Instance UID the
hub minted for the capture (a DICOM UID is an OID, and the capture has one
identity whichever way it is delivered), entryUUID a name-based UUID of it.
patientId and sourcePatientId are the same CX (``MRN^^^&OID&ISO``): the hub
has no PIX cross-reference, so the identifier it was given is the one the
domain shares.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from encapsulate.context.capture import CaptureContext, Patient
from encapsulate.errors import ContextError, MediaError
from encapsulate.identity import InstanceIdentity
from encapsulate.media.info import MediaInfo
from encapsulate.xds.policy import SCHEME_SYSTEMS, Code, XdsPolicy

# ITI TF-3 Table 4.2.3.1.7-2 identifier types of referenceIdList.
ACCESSION = "urn:ihe:iti:xds:2013:accession"
ORDER = "urn:ihe:iti:xds:2013:order"
ENCOUNTER = "urn:ihe:iti:xds:2015:encounterId"
STUDY_INSTANCE_UID = "urn:ihe:iti:xds:2016:studyInstanceUID"
# HL7 v2 delimiters cannot appear inside a CX component unescaped.
_CX_DELIMITERS = set("^&~|\\")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReferenceId:
    """One referenceIdList entry; ``cxi`` is its XDS form ``value^^^&OID&ISO^type``."""

    value: str
    type: str
    authority: str | None = None

    @property
    def cxi(self) -> str:
        authority = f"&{self.authority}&ISO" if self.authority else ""
        return f"{self.value}^^^{authority}^{self.type}"


@dataclass(frozen=True)
class DocumentEntry:
    """XDS DocumentEntry metadata of one original (ITI TF-3 4.2.3.2).

    Times are timezone-aware; ``hash`` is the SHA-1 of the file's bytes in
    hex as XDS writes it (4.2.3.2.10); ``size`` is in bytes (4.2.3.2.21).
    ``patient`` is the sourcePatientInfo (4.2.3.2.24) as the context gave it.
    """

    unique_id: str
    entry_uuid: str
    mime_type: str
    kind: str
    title: str | None
    type_code: Code
    class_code: Code
    format_code: Code
    confidentiality_code: Code
    language_code: str
    creation_time: datetime
    healthcare_facility_type_code: Code
    practice_setting_code: Code
    patient_id: str
    patient_authority: str
    source_patient_id: str
    patient: Patient
    hash: str
    size: int
    author_person: str | None
    author_institution: str | None
    service_start_time: datetime | None
    service_stop_time: datetime | None
    event_codes: tuple[Code, ...]
    reference_ids: tuple[ReferenceId, ...]
    encounter: ReferenceId | None

    @property
    def sha1(self) -> bytes:
        return bytes.fromhex(self.hash)


def _cx_part(field_path: str, value: str) -> str:
    if _CX_DELIMITERS & set(value):
        raise ContextError(f"{field_path} must not contain ^ & ~ | or \\ (HL7 CX delimiters)")
    return value


def _digest(path: Path) -> tuple[str, int]:
    sha1, size = hashlib.sha1(usedforsecurity=False), 0
    try:
        with Path(path).open("rb") as stream:
            while chunk := stream.read(_HASH_CHUNK):
                sha1.update(chunk)
                size += len(chunk)
    except OSError as error:
        raise MediaError(f"the file cannot be read: {error.strerror or error}") from None
    return sha1.hexdigest(), size


def _references(
    context: CaptureContext, identity: InstanceIdentity, policy: XdsPolicy
) -> tuple[tuple[ReferenceId, ...], ReferenceId | None]:
    order, encounter = context.order, context.encounter
    found: list[ReferenceId] = []
    if order is not None:
        authority = policy.authority("context.order.issuer", order.issuer)
        if order.accession_number:
            value = _cx_part("context.order.accession_number", order.accession_number)
            found.append(ReferenceId(value, ACCESSION, authority))
        if order.placer_order_number:
            # Only the placer's own order number: an EMR resource id is no order id.
            placer = policy.authority("context.order.placer_issuer", order.placer_issuer)
            value = _cx_part("context.order.placer_order_number", order.placer_order_number)
            found.append(ReferenceId(value, ORDER, placer))
    found.append(ReferenceId(identity.study_instance_uid, STUDY_INSTANCE_UID))
    visit = None
    if encounter is not None:
        authority = policy.authority("context.encounter.issuer", encounter.issuer)
        visit = ReferenceId(_cx_part("context.encounter.id", encounter.id), ENCOUNTER, authority)
        found.append(visit)
    return tuple(found), visit


def _events(context: CaptureContext) -> tuple[Code, ...]:
    site = context.body_site
    if site is None:
        return ()
    system = SCHEME_SYSTEMS.get(site.scheme)
    if system is None:
        raise ContextError(
            f"context.body_site.code scheme {site.scheme} has no FHIR system "
            f"(known: {', '.join(SCHEME_SYSTEMS)})"
        )
    return (Code(system, site.value, site.meaning or site.code),)


def describe_original(
    path: Path,
    *,
    context: CaptureContext,
    media_info: MediaInfo,
    identity: InstanceIdentity,
    policy: XdsPolicy,
) -> DocumentEntry:
    """The DocumentEntry of the file at ``path``, exactly as it will be delivered.

    ``path`` is the file to send (the scrubbed original): hash and size are
    computed from its bytes. ``media_info`` is what ``inspect_media`` said of
    it. Raises ``ContextError`` for an issuer without an OID (see
    ``XdsPolicy``), a missing capture time or a value HL7 CX cannot carry.
    """
    patient = context.patient
    authority = policy.authority("context.patient.issuer", patient.issuer)
    if authority is None:
        raise ContextError("context.patient.issuer is required for XDS (the patientId's domain)")
    patient_id = f"{_cx_part('context.patient.id', patient.id)}^^^&{authority}&ISO"
    created = media_info.captured_at or context.captured_at
    if created is None:
        raise ContextError("context.captured_at is required for XDS (creationTime)")
    if created.utcoffset() is None:
        raise ContextError("the capture time must carry a UTC offset for XDS (creationTime)")
    stop = None
    if media_info.duration_seconds:
        stop = created + timedelta(seconds=media_info.duration_seconds)
    references, encounter = _references(context, identity, policy)
    digest, size = _digest(path)
    kind = media_info.kind
    type_code, class_code = policy.type_and_class(kind, context.specialty)
    return DocumentEntry(
        unique_id=identity.sop_instance_uid,
        entry_uuid=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, identity.sop_instance_uid)}",
        mime_type=media_info.mime_type,
        kind=kind,
        title=context.description,
        type_code=type_code,
        class_code=class_code,
        format_code=policy.format_code(media_info.mime_type),
        confidentiality_code=policy.confidentiality,
        language_code=policy.language,
        creation_time=created,
        healthcare_facility_type_code=policy.facility_type,
        practice_setting_code=policy.practice_settings[context.specialty],
        patient_id=patient_id,
        patient_authority=authority,
        source_patient_id=patient_id,
        patient=patient,
        hash=digest,
        size=size,
        author_person=context.operator,
        author_institution=context.institution,
        service_start_time=created,
        service_stop_time=stop or created,
        event_codes=_events(context),
        reference_ids=references,
        encounter=encounter,
    )
