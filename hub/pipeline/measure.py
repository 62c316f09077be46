"""The measurement step: a wound or burn photo with a calibration marker is
measured after encapsulation, on the cpu queue (docs/wound-measurement.md).

The capture stays `encapsulated` while it is measured: `measurement_state` is
"due" from encapsulation until the step has either written the SR Measurement
Report (a DicomInstance of the capture, delivered with the photo) or recorded
why it could not. Either way the capture goes on to delivery: a failure to
measure never stops the photo from being archived.

The step claims the capture like the others (a lease renewed by the task's
heartbeat); a crash leaves the lease to run out and the sweep sends the
capture's next step again, which comes back here while the measurement is
due. The SR's UIDs and the measurement's time are minted once and kept in
`measurement_uids`, so a retry writes the same bytes; the wound (its Tracking
Identifier and UID) is the one the context names or a new one, assigned once
by `hub.wounds` before the photo is written (`photo_wound_tracking`), so the
photo and its SR carry the same. The context's traced outline is measured when it has one
(method `outline`), else the automatic outline from its tap or the centre.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import pydicom
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydicom.uid import generate_uid

from encapsulate import InstanceIdentity, WrittenInstance, parse_context
from encapsulate.context.capture import Specialty, WoundTracking
from encapsulate.dicom.output_file import write_atomically
from hub.captures.instances import instances_record
from hub.captures.leases import capture_claim
from hub.captures.models import Capture, CaptureStatus, DicomInstance
from hub.captures.originals import delivers
from hub.captures.states import capture_update
from hub.captures.storage import data_path, instance_directory
from hub.wounds.models import Wound
from hub.wounds.services import WoundRefused, capture_wound

log = logging.getLogger(__name__)

DUE = "due"
MEASURED = "measured"
REFUSED = "refused"
MEASURED_SPECIALTIES = frozenset({Specialty.WOUND, Specialty.BURN})
SR_SERIES_NUMBER = 900


def measurement_wanted(capture: Capture) -> bool:
    """A wound or burn photo that becomes DICOM is measured after encapsulation."""
    context = parse_context(capture.context)
    return (
        context.specialty in MEASURED_SPECIALTIES
        and capture.mime_type.startswith("image/")
        and delivers(context.specialty, "dicom")
    )


def photo_wound_tracking(capture: Capture) -> WoundTracking | None:
    """The wound a photo shows, for its DICOM objects, assigned before they are written
    (`hub.wounds.services.capture_wound`, once per capture: a retry and the
    measurement step find the same one). None for what is no photo (a video would
    become the wound's last photo without a thumbnail), where the capture names no
    wound and is not measured, or names one the hub cannot give it: the photo is
    written without, and the measurement step records why."""
    if not capture.mime_type.startswith("image/"):
        return None
    if parse_context(capture.context).wound is None and not measurement_wanted(capture):
        return None
    try:
        wound = capture_wound(capture=capture)
    except WoundRefused as refusal:
        log.info("capture %s: no wound for the photo: %s", capture.id, refusal.reason)
        return None
    return WoundTracking(identifier=wound.tracking_identifier, uid=wound.tracking_uid)


def measurement_due(capture_id: UUID | str) -> bool:
    return Capture.objects.filter(
        id=capture_id, status=CaptureStatus.ENCAPSULATED, measurement_state=DUE
    ).exists()


def _uids(capture: Capture, wound: Wound) -> dict[str, str]:
    """The SR's UIDs and time, minted on the first try and kept for every later one."""
    fresh = {
        "series_instance_uid": generate_uid(),
        "sop_instance_uid": generate_uid(),
        "tracking_uid": wound.tracking_uid,
        "measured_at": timezone.now().isoformat(),
    }
    Capture.objects.filter(id=capture.id, measurement_uids__isnull=True).update(
        measurement_uids=fresh
    )
    return Capture.objects.values_list("measurement_uids", flat=True).get(id=capture.id)


def _photo(capture: Capture) -> DicomInstance:
    return DicomInstance.objects.get(capture=capture, sop_instance_uid=capture.sop_instance_uid)


def _finish(capture: Capture, **fields: object) -> bool:
    """Ends the step (lease released, tries reset); False if another holds it now."""
    with transaction.atomic():
        held = Capture.objects.filter(
            id=capture.id, lease_owner=capture.lease_owner, measurement_state=DUE
        ).exists()
        if held:
            capture_update(capture.id, lease_until=None, **fields)
    return held


def _refused(capture: Capture, reason: str) -> bool:
    log.info("capture %s not measured: %s", capture.id, reason)
    return _finish(capture, measurement_state=REFUSED, measurement_reason=reason[:2000])


def capture_measure(*, capture_id: UUID | str) -> bool:
    """Measures the capture's photo and writes its SR; True when the measurement
    is no longer due (measured or refused), so that delivery may start."""
    if not measurement_due(capture_id):
        return not Capture.objects.filter(id=capture_id, measurement_state=DUE).exists()
    capture = capture_claim(capture_id, CaptureStatus.ENCAPSULATED)
    if capture is None:
        return False
    # The claim counted this try: the last one the step has, it records why instead.
    if capture.step_attempts >= settings.HUB_STEP_MAX_ATTEMPTS:
        return _refused(
            capture,
            f"the measurement was tried {settings.HUB_STEP_MAX_ATTEMPTS} times without "
            f"finishing; last: {capture.step_error or 'the worker was killed'}",
        )
    try:
        return _measure(capture)
    except Exception as error:  # never stops the photo: recorded, and delivery goes on
        log.exception("capture %s: the measurement failed", capture.id)
        return _refused(capture, f"the measurement failed: {type(error).__name__}: {error}")


def _measure(capture: Capture) -> bool:
    from encapsulate.iods.measurement_report import build_measurement_report
    from encapsulate.measure import MeasurementRefused, measure_photo
    from hub.pipeline.steps import hub_producer  # the steps import this module

    try:
        wound = capture_wound(capture=capture)
    except WoundRefused as refusal:
        return _refused(capture, refusal.reason)
    context = parse_context(capture.context)
    try:
        measurement = measure_photo(
            data_path(capture.original_path),
            outline=[list(p) for p in context.outline.points] if context.outline else None,
            seed=context.tap,
            marker_mm=settings.HUB_MARKER_MM,
        )
    except MeasurementRefused as refusal:
        return _refused(capture, refusal.reason)
    uids = _uids(capture, wound)
    photo = _photo(capture)
    photo_dataset = pydicom.dcmread(data_path(photo.path), stop_before_pixels=True)
    identity = InstanceIdentity(
        study_instance_uid=photo_dataset.StudyInstanceUID,
        series_instance_uid=uids["series_instance_uid"],
        sop_instance_uid=uids["sop_instance_uid"],
        series_number=SR_SERIES_NUMBER,
    )
    report = build_measurement_report(
        photo=photo_dataset,
        measurement=measurement,
        wound=WoundTracking(identifier=wound.tracking_identifier, uid=uids["tracking_uid"]),
        identity=identity,
        measured_at=datetime.fromisoformat(uids["measured_at"]),
        producer=hub_producer(),
    )
    report_file = write_atomically(
        report, instance_directory(capture.id) / f"{identity.sop_instance_uid}.dcm"
    )
    with transaction.atomic():
        instances_record(capture, [WrittenInstance.of(report, report_file, derived=True)])
        return _finish(
            capture,
            measurement_state=MEASURED,
            measurement=measurement.as_json(),
            measurement_reason="",
        )
