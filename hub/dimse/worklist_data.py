"""The Modality Worklist's query and answers as plain values (PS3.4 K.6, Table K.6-1).

`WorklistQuery` becomes the C-FIND identifier; each answer becomes one
`WorklistItem` per Scheduled Procedure Step. No networking here: that is
`hub.dimse.worklist`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import DA, TM

logger = logging.getLogger(__name__)

# Characters with a matching meaning in a C-FIND key (PS3.4 C.2.2.2.3-4): a
# patient id or accession number containing one would match other patients.
WILDCARD_CHARACTERS = frozenset("*?\\")


@dataclass(frozen=True)
class WorklistQuery:
    """Matching keys of one worklist query; None leaves a key out (universal matching).

    The scheduled date is one day (`scheduled_date`) or a range whose ends
    may be open (`scheduled_date_from` / `scheduled_date_to`); the time window
    applies to every day in it, because date and time are matched separately
    unless combined date-time matching is negotiated (PS3.4 C.2.2.2.5.1).
    """

    patient_id: str | None = None
    accession_number: str | None = None
    modality: str | None = None
    scheduled_station_aet: str | None = None
    scheduled_date: date | None = None
    scheduled_date_from: date | None = None
    scheduled_date_to: date | None = None
    scheduled_time_from: time | None = None
    scheduled_time_to: time | None = None

    def __post_init__(self) -> None:
        for name in ("patient_id", "accession_number", "modality", "scheduled_station_aet"):
            value = getattr(self, name)
            if value is None:
                continue
            if not value.strip():
                raise ValueError(f"{name} is empty: leave it out (None) to match any value")
            if WILDCARD_CHARACTERS & set(value):
                raise ValueError(f"{name}={value!r} contains a C-FIND wildcard (*, ? or \\)")
            # The provider strips spaces before matching (PS3.5 6.2); compare alike.
            object.__setattr__(self, name, value.strip())
        if self.scheduled_date and (self.scheduled_date_from or self.scheduled_date_to):
            raise ValueError("give scheduled_date or a from/to range, not both")
        if _reversed(self.scheduled_date_from, self.scheduled_date_to):
            raise ValueError("scheduled_date_from is after scheduled_date_to")
        # A TM range cannot wrap past midnight (PS3.4 C.2.2.2.5); query by date instead.
        if _reversed(self.scheduled_time_from, self.scheduled_time_to):
            raise ValueError("scheduled_time_from is after scheduled_time_to")

    @classmethod
    def around(
        cls, at: datetime, window: timedelta, *, station_aet: str, modality: str | None = None
    ) -> WorklistQuery:
        """Steps of one station scheduled within `window` of `at` (wall-clock time).

        Asks for the days the window touches, and for the times too when it
        stays within one day; `items_in_window()` then picks the steps.
        """
        start, end = at - window, at + window
        same_day = start.date() == end.date()
        return cls(
            modality=modality,
            scheduled_station_aet=station_aet,
            scheduled_date_from=start.date(),
            scheduled_date_to=end.date(),
            scheduled_time_from=start.time() if same_day else None,
            scheduled_time_to=end.time() if same_day else None,
        )

    def matches(self, item: WorklistItem) -> bool:
        """Whether `item` satisfies every key (exact matching, PS3.4 C.2.2.2.1)."""
        step = item.scheduled_step
        when_from = self.scheduled_date or self.scheduled_date_from
        when_to = self.scheduled_date or self.scheduled_date_to
        checks = (
            self.patient_id in (None, item.patient_id),
            self.accession_number in (None, item.accession_number),
            self.modality in (None, step.modality),
            self.scheduled_station_aet is None
            or self.scheduled_station_aet in step.station_ae_titles,
            _within(step.start_date, when_from, when_to),
            _within(step.start_time, self.scheduled_time_from, self.scheduled_time_to),
        )
        return all(checks)


@dataclass(frozen=True)
class ScheduledStep:
    """One item of the Scheduled Procedure Step Sequence (0040,0100), PS3.4 Table K.6-1."""

    start_date: date | None = None
    start_time: time | None = None
    modality: str | None = None
    # Scheduled Station AE Title and Name are multi-valued (VM 1-n, PS3.3 C.4.10).
    station_ae_titles: tuple[str, ...] = ()
    station_names: tuple[str, ...] = ()
    step_id: str | None = None
    description: str | None = None

    @property
    def start(self) -> datetime | None:
        """Scheduled start as the provider's local wall-clock time (DA/TM carry no zone)."""
        if self.start_date is None or self.start_time is None:
            return None
        return datetime.combine(self.start_date, self.start_time)


@dataclass(frozen=True)
class WorklistItem:
    """One scheduled procedure step and the order and patient it belongs to."""

    patient_id: str | None = None
    issuer_of_patient_id: str | None = None
    patient_name: str | None = None
    patient_birth_date: date | None = None
    patient_sex: str | None = None
    accession_number: str | None = None
    # Local Namespace Entity ID, else Universal Entity ID (PS3.3 Table 10-17).
    accession_number_issuer: str | None = None
    requested_procedure_id: str | None = None
    requested_procedure_description: str | None = None
    study_instance_uid: str | None = None
    referring_physician_name: str | None = None
    scheduled_step: ScheduledStep = field(default_factory=ScheduledStep)


def items_in_window(
    items: Iterable[WorklistItem], at: datetime, window: timedelta
) -> list[WorklistItem]:
    """The items scheduled to start within `window` of `at`, nearest first.

    `at` is wall-clock time in the worklist's own zone (naive): DA and TM carry
    no offset (PS3.5 6.2), so an aware datetime cannot be compared honestly.
    Items without both a start date and time are left out.
    """
    if at.tzinfo is not None:
        raise ValueError("give `at` as naive wall-clock time in the worklist provider's zone")
    chosen = [
        item
        for item in items
        if (start := item.scheduled_step.start) is not None and abs(start - at) <= window
    ]
    return sorted(chosen, key=lambda item: abs(item.scheduled_step.start - at))  # type: ignore[operator]


# Request and answer datasets

# Return keys (PS3.4 Table K.6-1): each sent empty, so the provider fills it in.
RETURN_KEYS = [
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "RequestedProcedureID",
    "RequestedProcedureDescription",
    "StudyInstanceUID",
    "ReferringPhysicianName",
]
STEP_RETURN_KEYS = [
    "Modality",
    "ScheduledStationAETitle",
    "ScheduledStationName",
    "ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepStartTime",
    "ScheduledProcedureStepID",
    "ScheduledProcedureStepDescription",
]


def request_dataset(query: WorklistQuery) -> Dataset:
    ds = Dataset()
    for keyword in RETURN_KEYS:
        setattr(ds, keyword, "")
    step = Dataset()
    for keyword in STEP_RETURN_KEYS:
        setattr(step, keyword, "")
    # An empty sequence is universal matching of Issuer of Accession Number.
    ds.IssuerOfAccessionNumberSequence = []
    ds.PatientID = query.patient_id or ""
    ds.AccessionNumber = query.accession_number or ""
    step.Modality = query.modality or ""
    step.ScheduledStationAETitle = query.scheduled_station_aet or ""
    step.ScheduledProcedureStepStartDate = _range(
        query.scheduled_date or query.scheduled_date_from,
        query.scheduled_date or query.scheduled_date_to,
        "%Y%m%d",
    )
    step.ScheduledProcedureStepStartTime = _range(
        query.scheduled_time_from, query.scheduled_time_to, "%H%M%S"
    )
    # Exactly one item in the request (PS3.4 K.6.1.2.2).
    ds.ScheduledProcedureStepSequence = [step]
    if any(not value.isascii() for value in (query.patient_id, query.accession_number) if value):
        ds.SpecificCharacterSet = "ISO_IR 192"
    return ds


def _range(start: date | time | None, end: date | time | None, fmt: str) -> str:
    """A DA/TM range key (PS3.4 C.2.2.2.5): one value, `from-`, `-to` or `from-to`."""
    first = start.strftime(fmt) if start else ""
    last = end.strftime(fmt) if end else ""
    if first == last:
        return first
    return f"{first}-{last}"


def answer_items(answer: Dataset) -> list[WorklistItem]:
    issuers = answer.get("IssuerOfAccessionNumberSequence") or []
    accession_issuer = None
    if issuers:
        accession_issuer = _text(issuers[0], "LocalNamespaceEntityID") or _text(
            issuers[0], "UniversalEntityID"
        )
    item = WorklistItem(
        patient_id=_text(answer, "PatientID"),
        issuer_of_patient_id=_text(answer, "IssuerOfPatientID"),
        patient_name=_person_name(answer, "PatientName"),
        patient_birth_date=_date(answer, "PatientBirthDate"),
        patient_sex=_text(answer, "PatientSex"),
        accession_number=_text(answer, "AccessionNumber"),
        accession_number_issuer=accession_issuer,
        requested_procedure_id=_text(answer, "RequestedProcedureID"),
        requested_procedure_description=_text(answer, "RequestedProcedureDescription"),
        study_instance_uid=_text(answer, "StudyInstanceUID"),
        referring_physician_name=_person_name(answer, "ReferringPhysicianName"),
    )
    steps = answer.get("ScheduledProcedureStepSequence") or []
    return [replace(item, scheduled_step=_step(step)) for step in steps] or [item]


def _step(step: Dataset) -> ScheduledStep:
    return ScheduledStep(
        start_date=_date(step, "ScheduledProcedureStepStartDate"),
        start_time=_time(step, "ScheduledProcedureStepStartTime"),
        modality=_text(step, "Modality"),
        station_ae_titles=_texts(step, "ScheduledStationAETitle"),
        station_names=_texts(step, "ScheduledStationName"),
        step_id=_text(step, "ScheduledProcedureStepID"),
        description=_text(step, "ScheduledProcedureStepDescription"),
    )


def _texts(ds: Dataset, keyword: str) -> tuple[str, ...]:
    value = ds.get(keyword)
    if value is None:
        return ()
    values = list(value) if isinstance(value, MultiValue) else [value]
    return tuple(text for one in values if (text := str(one).strip()))


def _text(ds: Dataset, keyword: str) -> str | None:
    # Providers pad values to even length with spaces (PS3.5 6.2); Orthanc does.
    texts = _texts(ds, keyword)
    return "\\".join(texts) if texts else None


def _person_name(ds: Dataset, keyword: str) -> str | None:
    """A PN string without padding or trailing empty components (PS3.5 6.2.1.1)."""
    text = _text(ds, keyword)
    if text is None:
        return None
    groups = [group.strip().rstrip("^").strip() for group in text.split("=")]
    return "=".join(groups).rstrip("=") or None


def _date(ds: Dataset, keyword: str) -> date | None:
    value = _parsed(ds, keyword, DA)
    return None if value is None else date(value.year, value.month, value.day)


def _time(ds: Dataset, keyword: str) -> time | None:
    value = _parsed(ds, keyword, TM)
    return (
        None if value is None else time(value.hour, value.minute, value.second, value.microsecond)
    )


def _parsed(ds: Dataset, keyword: str, vr: type[DA] | type[TM]) -> DA | TM | None:
    text = _text(ds, keyword)
    try:
        return vr(text) if text else None
    except ValueError:
        # One malformed answer must not hide the others; it matches no date key.
        logger.warning("worklist answer has an invalid %s %r; ignored", keyword, text)
        return None


def _reversed(start: date | time | None, end: date | time | None) -> bool:
    return start is not None and end is not None and start > end


def _within(value: date | time | None, start: date | time | None, end: date | time | None) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)  # type: ignore[operator]
