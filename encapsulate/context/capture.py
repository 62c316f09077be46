"""The capture context: who and what a capture is of, as frozen dataclasses.

``parse`` builds them from the JSON the hub (or the mobile client) sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from encapsulate.errors import ContextError
from encapsulate.value_rules import check_uid


class Specialty(StrEnum):
    """The clinical setting of the capture; it selects the IOD later on."""

    WOUND = "wound"
    BURN = "burn"
    DERMATOLOGY = "dermatology"
    DERMOSCOPY = "dermoscopy"
    OPHTHALMOLOGY = "ophthalmology"
    POCUS = "pocus"
    ENDOSCOPY = "endoscopy"
    GENERAL = "general"


@dataclass(frozen=True)
class Patient:
    id: str
    issuer: str | None = None
    name: str | None = None
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class Order:
    """The order a capture fulfils.

    ``issuer`` is the accession number's. ``service_request`` is the EMR's
    resource reference ("ServiceRequest/123"), used to find the order again and
    never written as a DICOM or XDS order number; ``placer_order_number`` (with
    ``placer_issuer``) is the placer's own identifier of the order. The
    procedure and step ids come from a scheduled order or worklist entry.
    """

    accession_number: str | None = None
    issuer: str | None = None
    service_request: str | None = None
    study_instance_uid: str | None = None
    placer_order_number: str | None = None
    placer_issuer: str | None = None
    requested_procedure_id: str | None = None
    scheduled_procedure_step_id: str | None = None


@dataclass(frozen=True)
class Encounter:
    id: str
    issuer: str | None = None


@dataclass(frozen=True)
class BodySite:
    """A coded anatomic region: ``code`` is "SCHEME:VALUE", e.g. "SCT:30021000"."""

    code: str
    meaning: str | None = None
    laterality: str | None = None

    @property
    def scheme(self) -> str:
        return self.code.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.code.split(":", 1)[1]


@dataclass(frozen=True)
class Device:
    """The device that exported the capture, for captures without patient context.

    An endoscopy tower or POCUS dock drops files with no patient on them; the
    hub then matches by scheduled station and time against the worklist.
    """

    station_aet: str
    station_name: str | None = None
    modality: str | None = None


@dataclass(frozen=True)
class StudyFacts:
    """What the hub decided for the study a capture joins (PS3.3 C.7.2.1).

    Every instance of one study carries the same Study Date, Time and
    Description and one Timezone Offset From UTC, whatever its own acquisition
    time: ``started_at`` (timezone-aware) gives the date, time and zone, and
    ``description`` (None: none) the Study Description. ``series_number`` is
    this capture's series within the study (Series Number, C.7.3.1).
    """

    started_at: datetime
    description: str | None = None
    series_number: int | None = None


@dataclass(frozen=True)
class WoundRef:
    """Which wound a wound or burn photo shows: one the hub knows (``id``, the hub's
    wound id from the patient's wound list) or, with ``id`` None, a new one."""

    id: str | None = None


@dataclass(frozen=True)
class WoundTracking:
    """The wound's identity across captures: Tracking Identifier (a label people
    read, e.g. "Wound 2, left heel") and Tracking UID (minted once per wound), as
    the measurement templates use them (PS3.16 TID 1410 rows 2 and 3)."""

    identifier: str
    uid: str

    def __post_init__(self) -> None:
        check_uid("wound.uid", self.uid)
        if not self.identifier.strip() or len(self.identifier) > 64:
            raise ContextError("the wound's tracking identifier must be 1 to 64 characters")


@dataclass(frozen=True)
class Outline:
    """The wound's edge as the nurse traced it, once around: ``[x, y]`` pixels of the
    photo as displayed (after its EXIF orientation), origin at the top-left corner of
    the top-left pixel. Whether it fits the photo is the measurement's to judge."""

    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class CaptureContext:
    """What ties a capture to a patient; ``patient`` may be missing only when
    ``device`` says where the capture came from (the hub must match it before
    any DICOM is written)."""

    patient: Patient | None
    order: Order | None = None
    encounter: Encounter | None = None
    specialty: Specialty = Specialty.GENERAL
    body_site: BodySite | None = None
    operator: str | None = None
    institution: str | None = None
    department: str | None = None
    captured_at: datetime | None = None
    description: str | None = None
    device: Device | None = None
    # The patient agreed to the photograph being taken and kept (the hub's
    # record of it; DICOM has no attribute for it). None: not recorded.
    consent: bool | None = None
    # Set by the hub's match step; without it each instance describes its study itself.
    study: StudyFacts | None = None
    # A wound or burn photo's measurement (docs/wound-measurement.md): the wound it
    # shows, the traced outline, or the point tapped to seed the automatic one.
    wound: WoundRef | None = None
    outline: Outline | None = None
    tap: tuple[float, float] | None = None
    # Set by the hub once it has given the photo its wound (never read from JSON):
    # the photo objects carry it in their Acquisition Context, as the SR does.
    wound_tracking: WoundTracking | None = None
