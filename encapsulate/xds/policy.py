"""The affinity domain's choices for XDS / MHD metadata, as one frozen policy.

An XDS affinity domain (IHE ITI TF-3 4.1, 4.2.3.2) fixes which code sets
its registry accepts; the defaults below use real code systems and are meant
to be replaced by the deployment's own where its domain says otherwise.
Sources of the default codes:

- typeCode and classCode of photos and video, per specialty (``SPECIALTY_CODES``);
  LOINC 34109-9 "Note" for both of a document. The classes are from FHIR's
  Document Class Value Set (http://hl7.org/fhir/ValueSet/doc-classcodes, the R4
  example binding of DocumentReference.category, from HITSP C80 table 2-144);
  the types from LOINC's Document Ontology:

  | specialty | typeCode | classCode |
  | --- | --- | --- |
  | wound, burn | 72170-4 Photographic image | 34775-7 General surgery studies (set) |
  | dermatology, dermoscopy, general | 72170-4 Photographic image | 28634-4 Miscellaneous studies |
  | ophthalmology | 72170-4 Photographic image | 28619-5 Ophthalmology/optometry studies (set) |
  | endoscopy | 18751-8 Endoscopy study | 27895-2 Gastroenterology endoscopy studies (set) |
  | pocus | 18748-4 Diagnostic imaging study | 18726-0 Radiology studies (set) |

  A wound photo is no radiology study: only the imaging modality (POCUS) gets 18726-0.
- confidentialityCode: HL7 v3 Confidentiality "N" (normal),
  http://terminology.hl7.org/CodeSystem/v3-Confidentiality (OID 2.16.840.1.113883.5.25).
- healthcareFacilityTypeCode: SNOMED CT 22232009 "Hospital" (FHIR R4
  c80-facilitycodes value set).
- practiceSettingCode: SNOMED CT specialties of FHIR R4's c80-practice-codes
  value set, chosen per capture specialty (``PRACTICE_SETTINGS``).
- formatCode: urn:ihe:iti:xds:2017:mimeTypeSufficient from the IHE format
  code system (OID 1.3.6.1.4.1.19376.1.2.3): the MIME type says all a
  reader needs for a plain JPEG, MP4 or PDF.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from encapsulate.context.capture import Specialty
from encapsulate.errors import ContextError

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
IHE_FORMAT_CODES = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
# PS3.16 8.2 coding scheme designators of the context's body sites, as FHIR systems.
SCHEME_SYSTEMS = {"SCT": SNOMED, "LN": LOINC, "DCM": DICOM}

_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")


@dataclass(frozen=True)
class Code:
    """A coded value: FHIR Coding (system URI) and XDS Classification in one."""

    system: str
    code: str
    display: str


PHOTOGRAPHIC_IMAGE = Code(LOINC, "72170-4", "Photographic image")
NOTE = Code(LOINC, "34109-9", "Note")
RADIOLOGY_STUDIES = Code(LOINC, "18726-0", "Radiology studies (set)")
ENDOSCOPY_STUDY = Code(LOINC, "18751-8", "Endoscopy study")
DIAGNOSTIC_IMAGING_STUDY = Code(LOINC, "18748-4", "Diagnostic imaging study")
GENERAL_SURGERY_STUDIES = Code(LOINC, "34775-7", "General surgery studies (set)")
MISCELLANEOUS_STUDIES = Code(LOINC, "28634-4", "Miscellaneous studies (set)")
OPHTHALMOLOGY_STUDIES = Code(LOINC, "28619-5", "Ophthalmology/optometry studies (set)")
ENDOSCOPY_STUDIES = Code(LOINC, "27895-2", "Gastroenterology endoscopy studies (set)")
NORMAL = Code(CONFIDENTIALITY, "N", "normal")
HOSPITAL = Code(SNOMED, "22232009", "Hospital")
MIME_TYPE_SUFFICIENT = Code(
    IHE_FORMAT_CODES, "urn:ihe:iti:xds:2017:mimeTypeSufficient", "MIME type sufficient"
)

PRACTICE_SETTINGS: Mapping[Specialty, Code] = MappingProxyType(
    {
        Specialty.WOUND: Code(SNOMED, "394609007", "General surgery"),
        Specialty.BURN: Code(SNOMED, "394609007", "General surgery"),
        Specialty.DERMATOLOGY: Code(SNOMED, "394582007", "Dermatology"),
        Specialty.DERMOSCOPY: Code(SNOMED, "394582007", "Dermatology"),
        Specialty.OPHTHALMOLOGY: Code(SNOMED, "394594003", "Ophthalmology"),
        Specialty.POCUS: Code(SNOMED, "773568002", "Emergency medicine"),
        Specialty.ENDOSCOPY: Code(SNOMED, "394584008", "Gastroenterology"),
        Specialty.GENERAL: Code(SNOMED, "394802001", "General medicine"),
    }
)
TYPE_CODES: Mapping[str, Code] = MappingProxyType(
    {"photo": PHOTOGRAPHIC_IMAGE, "video": PHOTOGRAPHIC_IMAGE, "document": NOTE}
)
CLASS_CODES: Mapping[str, Code] = MappingProxyType(
    {"photo": MISCELLANEOUS_STUDIES, "video": MISCELLANEOUS_STUDIES, "document": NOTE}
)
# (typeCode, classCode) of a photo or video by specialty: the table above.
SPECIALTY_CODES: Mapping[Specialty, tuple[Code, Code]] = MappingProxyType(
    {
        Specialty.WOUND: (PHOTOGRAPHIC_IMAGE, GENERAL_SURGERY_STUDIES),
        Specialty.BURN: (PHOTOGRAPHIC_IMAGE, GENERAL_SURGERY_STUDIES),
        Specialty.DERMATOLOGY: (PHOTOGRAPHIC_IMAGE, MISCELLANEOUS_STUDIES),
        Specialty.DERMOSCOPY: (PHOTOGRAPHIC_IMAGE, MISCELLANEOUS_STUDIES),
        Specialty.GENERAL: (PHOTOGRAPHIC_IMAGE, MISCELLANEOUS_STUDIES),
        Specialty.OPHTHALMOLOGY: (PHOTOGRAPHIC_IMAGE, OPHTHALMOLOGY_STUDIES),
        Specialty.ENDOSCOPY: (ENDOSCOPY_STUDY, ENDOSCOPY_STUDIES),
        Specialty.POCUS: (DIAGNOSTIC_IMAGING_STUDY, RADIOLOGY_STUDIES),
    }
)


def is_oid(value: str) -> bool:
    return len(value) <= 64 and _OID.fullmatch(value) is not None


def derived_oid(name: str) -> str:
    """A 2.25 OID (ISO/IEC 9834-8 UUID arc) derived from a local issuer name.

    Deterministic and globally unique, but registered nowhere: only for
    deployments whose domain accepts it (``XdsPolicy.derive_issuer_oids``).
    """
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:capture-hub:issuer:{name}').int}"


@dataclass(frozen=True)
class XdsPolicy:
    """Codes and identifiers of the affinity domain (see the module docstring).

    ``source_id`` is the hub's OID as a document source (SubmissionSet.sourceId,
    ITI TF-3 4.2.3.3.9); it has no default. ``assigning_authorities`` maps the
    context's issuer names (patient, accession, encounter) to OIDs; an issuer
    that already is an OID is used as is. An issuer neither an OID nor mapped
    is refused unless ``derive_issuer_oids`` is set.
    """

    source_id: str
    assigning_authorities: Mapping[str, str] = field(default_factory=dict)
    derive_issuer_oids: bool = False
    language: str = "en"
    confidentiality: Code = NORMAL
    facility_type: Code = HOSPITAL
    practice_settings: Mapping[Specialty, Code] = field(default_factory=lambda: PRACTICE_SETTINGS)
    type_codes: Mapping[str, Code] = field(default_factory=lambda: TYPE_CODES)
    class_codes: Mapping[str, Code] = field(default_factory=lambda: CLASS_CODES)
    specialty_codes: Mapping[Specialty, tuple[Code, Code]] = field(
        default_factory=lambda: SPECIALTY_CODES
    )
    format_codes: Mapping[str, Code] = field(default_factory=dict)
    default_format: Code = MIME_TYPE_SUFFICIENT

    def __post_init__(self) -> None:
        if not is_oid(self.source_id):
            raise ContextError(f"policy.source_id {self.source_id!r} is not an OID")
        for name, oid in self.assigning_authorities.items():
            if not is_oid(oid):
                raise ContextError(f"policy.assigning_authorities[{name!r}] is not an OID")

    def authority(self, field_path: str, issuer: str | None) -> str | None:
        """The OID of an issuer named in the context (None when there is none)."""
        if issuer is None:
            return None
        if is_oid(issuer):
            return issuer
        if issuer in self.assigning_authorities:
            return self.assigning_authorities[issuer]
        if self.derive_issuer_oids:
            return derived_oid(issuer)
        raise ContextError(
            f"{field_path} {issuer!r} is not an OID and the XDS policy maps it to none; "
            "add it to the policy's assigning_authorities"
        )

    def format_code(self, mime_type: str) -> Code:
        return self.format_codes.get(mime_type, self.default_format)

    def kind_code(self, codes: Mapping[str, Code], kind: str) -> Code:
        return codes.get(kind) or codes.get("photo") or PHOTOGRAPHIC_IMAGE

    def type_and_class(self, kind: str, specialty: Specialty) -> tuple[Code, Code]:
        """typeCode and classCode: by specialty for photos and video, else by kind."""
        if kind in ("photo", "video") and specialty in self.specialty_codes:
            return self.specialty_codes[specialty]
        return self.kind_code(self.type_codes, kind), self.kind_code(self.class_codes, kind)
