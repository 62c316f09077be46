"""Who the output instances are and who made them.

UIDs are minted once per capture by the hub and stored, so that a retried
task writes and re-sends the very same instances (STYLE.md, point 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydicom.uid import generate_uid

from encapsulate.value_rules import check_uid, is_uid


@dataclass(frozen=True)
class InstanceIdentity:
    """Study, Series and SOP Instance UIDs plus numbers (PS3.3 C.7.2.1, C.7.3.1, C.12.1)."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    series_number: int = 1
    instance_number: int = 1

    def __post_init__(self) -> None:
        check_uid("identity.study_instance_uid", self.study_instance_uid)
        check_uid("identity.series_instance_uid", self.series_instance_uid)
        check_uid("identity.sop_instance_uid", self.sop_instance_uid)

    @classmethod
    def mint(cls, *, study_instance_uid: str | None = None) -> InstanceIdentity:
        """New UIDs; ``study_instance_uid`` is kept when the order already names a study."""
        return cls(
            study_instance_uid=study_instance_uid or generate_uid(),
            series_instance_uid=generate_uid(),
            sop_instance_uid=generate_uid(),
        )


@dataclass(frozen=True)
class Producer:
    """The hub itself, recorded in the Contributing Equipment Sequence (PS3.3 C.12.1).

    The camera stays the General Equipment's Manufacturer / Model (from EXIF):
    it made the pixels; the hub only wrapped them. ``issuer_oids`` maps the
    context's issuer names to their OIDs (the hub's
    HUB_XDS_ASSIGNING_AUTHORITIES), so DICOM names an identifier's domain as
    XDS does (Universal Entity ID in the HL7v2 Hierarchic Designator, PS3.3 10.14).
    """

    manufacturer: str = "Capture Hub"
    model_name: str = "capture-hub encapsulate"
    software_versions: str = "0.1.0"
    station_name: str | None = None
    issuer_oids: Mapping[str, str] = field(default_factory=dict)

    def issuer_oid(self, issuer: str | None) -> str | None:
        """The OID of an issuer: mapped, or the issuer itself when it is an OID."""
        if issuer is None:
            return None
        if issuer in self.issuer_oids:
            return self.issuer_oids[issuer]
        return issuer if is_uid(issuer) else None
