"""The match step: tie a capture to its patient, order or encounter, and its study."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as fixed_zone
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from encapsulate import CaptureContext, StudyFacts, context_to_json, parse_context
from hub.audit.services import audit_record
from hub.captures.leases import capture_claim
from hub.captures.models import Capture, CaptureStatus, SessionSeries
from hub.captures.states import capture_move, capture_update
from hub.dimse.worklist import (
    WorklistError,
    WorklistUnavailable,
    worklist_client_from_settings,
)
from hub.emr.client import FhirError, FhirUnavailable
from hub.emr.factory import fhir_client_from_settings
from hub.matching.models import StudyAssignment
from hub.matching.resolve import Resolution, resolve_with_emr
from hub.matching.worklist_match import resolve_with_worklist
from hub.retry import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchResult:
    moved: bool  # the capture is now `matched`: encapsulate it
    retry_in: float | None = None  # the EMR could not be asked: try again then


def study_key(context: CaptureContext, *, session: UUID | None = None) -> str | None:
    """One study per order; one per encounter and specialty (IHE EBIW); else one per
    capture session and patient (docs/capture-context.md); else none."""
    if context.order is not None:
        order = context.order
        return f"order:{order.issuer or ''}|{order.accession_number or order.service_request}"
    if context.encounter is not None:
        encounter = context.encounter
        return f"encounter:{encounter.issuer or ''}|{encounter.id}|{context.specialty.value}"
    if session is not None and context.patient is not None:
        # The patient is in the key: a capture corrected to another one leaves the study.
        patient = context.patient
        return f"session:{session}|{patient.issuer or ''}|{patient.id}"
    return None


def session_site(context: CaptureContext) -> str:
    """A session's series follow body sites: code and laterality, '' for none."""
    site = context.body_site
    return "" if site is None else f"{site.code}|{site.laterality or ''}"[:64]


def in_session_study(context: CaptureContext, session: UUID | None) -> bool:
    """Whether the capture's study is its session's: no order or encounter gives one."""
    key = study_key(context, session=session)
    return key is not None and key.startswith("session:")


def session_series_join(
    capture: Capture, context: CaptureContext, study_uid: str, study: StudyFacts
) -> SessionSeries:
    """The series of the capture's body site in its session's study: the first capture
    of a site starts it with its own Series Instance UID and the study's next number.

    The study's row is locked while the site's series is looked for and made, so
    that two captures of one site matched at once share one series and one
    number, and the study's numbers have no gap (each was taken for a series).
    """
    key = study_key(context, session=capture.session_id)
    assert key is not None  # a session's study always has one
    site = session_site(context)
    with transaction.atomic():
        assignment = StudyAssignment.objects.select_for_update().get(key=key[:512])
        series = SessionSeries.objects.filter(
            session_id=capture.session_id, study_instance_uid=study_uid, site=site
        ).first()
        if series is None:
            StudyAssignment.objects.filter(pk=assignment.pk).update(
                series_count=F("series_count") + 1
            )
            assignment.refresh_from_db(fields=["series_count"])
            series = SessionSeries.objects.create(
                session_id=capture.session_id,
                study_instance_uid=study_uid,
                site=site,
                series_instance_uid=capture.series_instance_uid,
                series_number=assignment.series_count,
            )
    return series


def session_series(
    capture: Capture, context: CaptureContext, study_uid: str
) -> SessionSeries | None:
    """The series of the capture's body site in its session's study, if it has one yet."""
    if capture.session_id is None:
        return None
    return SessionSeries.objects.filter(
        session_id=capture.session_id, study_instance_uid=study_uid, site=session_site(context)
    ).first()


def study_start(moment: datetime, context: CaptureContext) -> datetime:
    """When a study starts, in its one UTC offset: the capture's own, unless the
    media's clock is UTC (a phone's video), where the context's offset is the
    owner's (PS3.3 C.12.1.1.8)."""
    if moment.utcoffset() == timedelta(0) and context.captured_at is not None:
        return moment.astimezone(context.captured_at.tzinfo)
    return moment


def _stored_start(assignment: StudyAssignment) -> datetime | None:
    if assignment.started_at is None or assignment.utc_offset_minutes is None:
        return None
    zone = fixed_zone(timedelta(minutes=assignment.utc_offset_minutes))
    return assignment.started_at.astimezone(zone)


def assign_study(
    context: CaptureContext,
    *,
    minted: str,
    started: datetime,
    series_number: int | None = None,
    session: UUID | None = None,
    allocate_series: bool = True,
) -> tuple[str, StudyFacts]:
    """The Study Instance UID this capture joins (the order's own UID wins), and the
    study's attributes: the first capture's time and description, the same for
    every instance of the study, and this capture's series number in it.

    ``series_number`` is the one the capture already has in this study (a match
    run again); otherwise the study's next one is taken, unless not
    ``allocate_series`` (a session's capture: its site's series gives the
    number, `session_series_join`).
    """
    ordered_uid = context.order.study_instance_uid if context.order else None
    start = study_start(started, context)
    key = study_key(context, session=session)
    if key is None:
        return ordered_uid or minted, StudyFacts(start, context.description, series_number or 1)
    offset = start.utcoffset()
    facts = {
        "started_at": start,
        "utc_offset_minutes": int(offset.total_seconds() // 60) if offset is not None else 0,
        "description": context.description or "",
    }
    assignment, _ = StudyAssignment.objects.get_or_create(
        key=key[:512], defaults={"study_instance_uid": ordered_uid or minted, **facts}
    )
    if assignment.started_at is None:
        # Assigned before studies kept their attributes: the first capture since sets them.
        StudyAssignment.objects.filter(pk=assignment.pk, started_at=None).update(**facts)
    if series_number is None and allocate_series:
        StudyAssignment.objects.filter(pk=assignment.pk).update(series_count=F("series_count") + 1)
    assignment.refresh_from_db()
    study = StudyFacts(
        started_at=_stored_start(assignment) or start,
        description=assignment.description or None,
        series_number=series_number or assignment.series_count,
    )
    return assignment.study_instance_uid, study


def _assigned_uid(context: CaptureContext, session: UUID | None = None) -> str | None:
    key = study_key(context, session=session)
    if key is None:
        return None
    return (
        StudyAssignment.objects.filter(key=key[:512])
        .values_list("study_instance_uid", flat=True)
        .first()
    )


def _order_of(context_json: dict) -> str:
    order = context_json.get("order") or {}
    return str(order.get("accession_number") or order.get("service_request") or "")


def _without_study(context_json: dict) -> dict:
    # The study's attributes are the hub's, not a change the EMR made.
    return {key: value for key, value in context_json.items() if key != "study"}


def resolve(context: CaptureContext, *, captured_at: datetime) -> Resolution:
    """Against the EMR when one is configured, else the worklist, else as given.

    A device capture (no patient) can only be matched by the worklist.
    """
    worklist = worklist_client_from_settings()
    window = timedelta(minutes=settings.HUB_MWL_WINDOW_MINUTES)
    if context.patient is None:
        if worklist is None:
            return Resolution(
                None,
                "the capture names no patient and no worklist (HUB_MWL_HOST) is configured "
                "to match its station and time",
            )
        return dataclasses.replace(
            resolve_with_worklist(
                context, worklist=worklist, captured_at=captured_at, window=window
            ),
            via="the worklist",
        )
    fhir = fhir_client_from_settings()
    if fhir is not None:
        with fhir:
            resolution = resolve_with_emr(
                context, fhir=fhir, default_system=settings.HUB_FHIR_MRN_SYSTEM
            )
        return dataclasses.replace(resolution, via="the EMR")
    if worklist is not None:
        return dataclasses.replace(
            resolve_with_worklist(
                context, worklist=worklist, captured_at=captured_at, window=window
            ),
            via="the worklist",
        )
    return Resolution(context, via="the context as sent (no EMR or worklist configured)")


def captured_at(capture: Capture, context: CaptureContext) -> datetime:
    """When the capture was taken: the media's own clock, the client's, or receipt."""
    from_media = (capture.media_info or {}).get("captured_at")
    if from_media:
        moment = datetime.fromisoformat(from_media)
        if moment.tzinfo is not None:
            return moment
    return context.captured_at or capture.created_at


def source(error: Exception) -> str:
    return "worklist" if isinstance(error, WorklistError) else "EMR"


def match_retry_policy() -> RetryPolicy:
    """The EMR or worklist being down is waited out: no bound on the attempts."""
    return RetryPolicy(
        base_seconds=settings.HUB_MATCH_RETRY_BASE_SECONDS,
        max_seconds=settings.HUB_MATCH_RETRY_MAX_SECONDS,
        max_attempts=None,
    )


def capture_match(*, capture_id: UUID | str) -> MatchResult:
    capture = capture_claim(capture_id, CaptureStatus.INSPECTED)
    if capture is None:
        return MatchResult(moved=False)
    sent = parse_context(capture.context)
    try:
        resolution = resolve(sent, captured_at=captured_at(capture, sent))
    except (FhirUnavailable, WorklistUnavailable) as error:
        attempts = capture.match_attempts + 1
        delay = match_retry_policy().delay(attempts)
        log.warning("capture %s waits for look-ups (%d): %s", capture.id, attempts, error.reason)
        # The lease doubles as "not before": the resume sweep leaves it alone until then.
        capture_update(
            capture.id,
            lease_until=timezone.now() + timedelta(seconds=delay),
            reason=f"waiting for the {source(error)}: {error.reason}",
            match_attempts=attempts,
        )
        return MatchResult(moved=False, retry_in=delay)
    except (FhirError, WorklistError) as error:
        resolution = Resolution(None, f"the {source(error)} refused the look-up: {error.reason}")

    with transaction.atomic():
        if not resolution.matched:
            capture_move(
                capture.id,
                source=CaptureStatus.INSPECTED,
                target=CaptureStatus.UNMATCHED,
                reason=resolution.reason,
                match_report=resolution.report(sent),
            )
            audit_record(capture_id=capture.id, action="unmatched", note=resolution.reason)
            return MatchResult(moved=False)
        resolved = resolution.context
        assert resolved is not None
        # A capture matched again into the study it was in keeps its series number.
        kept = sent.study.series_number if sent.study is not None else None
        session = capture.session_id if in_session_study(resolved, capture.session_id) else None
        assigned = _assigned_uid(resolved, session)
        joined = session_series(capture, resolved, assigned) if session and assigned else None
        if joined is not None:
            kept = joined.series_number
        elif capture.study_instance_uid != assigned:
            kept = None
        study_uid, study = assign_study(
            resolved,
            minted=capture.study_instance_uid,
            started=captured_at(capture, sent),
            series_number=kept,
            session=session,
            allocate_series=session is None,
        )
        series_uid = capture.series_instance_uid
        if session is not None:
            series = session_series_join(capture, resolved, study_uid, study)
            series_uid = series.series_instance_uid
            study = dataclasses.replace(study, series_number=series.series_number)
        resolved = dataclasses.replace(resolved, study=study)
        after = context_to_json(resolved)
        moved = capture_move(
            capture.id,
            source=CaptureStatus.INSPECTED,
            target=CaptureStatus.MATCHED,
            reason="",
            context=after,
            study_instance_uid=study_uid,
            series_instance_uid=series_uid,
            match_report=resolution.report(sent),
        )
        if moved:
            # How it matched and to whom; the context before and after if the look-up filled it.
            filled = _without_study(after) != _without_study(capture.context)
            order = _order_of(after)
            audit_record(
                capture_id=capture.id,
                action="matched",
                patient=(after.get("patient") or {}).get("id") or "",
                before=capture.context if filled else None,
                after={
                    "references": resolution.references,
                    **({"context": after} if filled else {}),
                },
                note=f"matched by {resolution.via}"
                + (f", order {order}" if order else "")
                + ("; context filled from the look-up" if filled else ""),
            )
    return MatchResult(moved=moved)
