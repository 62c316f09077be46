"""The pipeline's own steps for one capture: inspect, then (after matching) encapsulate.

Each step claims the capture (`hub.captures.leases`), does its work outside any
transaction, then moves the capture on in one short transaction. Each returns
True when the capture moved on, so that the caller enqueues the next step.
"""

from __future__ import annotations

import dataclasses
import logging
from uuid import UUID

from django.conf import settings
from django.db import transaction

from encapsulate import (
    EncapsulateError,
    InstanceIdentity,
    MediaError,
    Producer,
    inspect_media,
    parse_context,
    wrap,
)
from hub.captures.instances import instances_record
from hub.captures.leases import capture_claim, capture_release
from hub.captures.models import Capture, CaptureStatus
from hub.captures.originals import delivers, original_keep
from hub.captures.states import NEXT_STEP, capture_move
from hub.captures.storage import data_path, instance_directory
from hub.pipeline.measure import DUE, measurement_wanted, photo_wound_tracking

log = logging.getLogger(__name__)


def _rejected(capture: Capture, source: CaptureStatus, step: str, reason: str) -> bool:
    """The content cannot be used: the capture stops with the reason; nothing follows."""
    log.info("capture %s rejected on %s: %s", capture.id, step, reason)
    capture_move(capture.id, source=source, target=CaptureStatus.REJECTED, reason=reason)
    return False


def capture_inspect(*, capture_id: UUID | str, measured_next: bool = False) -> bool:
    """Inspects the capture's original. ``measured_next``: the caller goes on to
    measure it in this process (the steps chained in one task), so a photo to be
    measured is decoded once for its faces and its marker search."""
    capture = capture_claim(capture_id, CaptureStatus.RECEIVED)
    if capture is None:
        return False
    try:
        # Faces are counted only where they decide Recognizable Visual Features;
        # the encapsulate step looks for them itself if the specialty changes.
        info = inspect_media(
            data_path(capture.original_path),
            specialty=parse_context(capture.context).specialty,
            for_measurement=measured_next and measurement_wanted(capture),
        )
    except MediaError as error:
        return _rejected(capture, CaptureStatus.RECEIVED, "inspection", error.reason)
    except BaseException as error:
        capture_release(capture, error)
        raise
    return capture_move(
        capture.id,
        source=CaptureStatus.RECEIVED,
        target=CaptureStatus.INSPECTED,
        media_info=info.as_json(),
    )


def capture_identity(capture: Capture) -> InstanceIdentity:
    return InstanceIdentity(
        study_instance_uid=capture.study_instance_uid,
        series_instance_uid=capture.series_instance_uid,
        sop_instance_uid=capture.sop_instance_uid,
    )


def hub_producer() -> Producer:
    # The issuers' OIDs, so that DICOM names the patient's domain as XDS does.
    return Producer(
        station_name=settings.HUB_STATION_NAME,
        issuer_oids=settings.HUB_XDS_ASSIGNING_AUTHORITIES,
    )


def capture_encapsulate(*, capture_id: UUID | str) -> bool:
    """Writes the capture's DICOM instance(s) below dicom/<capture id>/, and
    keeps the scrubbed original beside them where HUB_ORIGINALS says so.

    Running it again after a crash rewrites the same instances with the same
    UIDs; the archive replaces an instance re-sent under the same UID.
    """
    capture = capture_claim(capture_id, CaptureStatus.MATCHED)
    if capture is None:
        return False
    context = parse_context(capture.context)
    written = []
    try:
        if delivers(context.specialty, "dicom"):
            context = dataclasses.replace(context, wound_tracking=photo_wound_tracking(capture))
            written = wrap(
                data_path(capture.original_path),
                context=context,
                identity=capture_identity(capture),
                out_dir=instance_directory(capture.id),
                producer=hub_producer(),
                faces=(capture.media_info or {}).get("faces"),
            )
        if delivers(context.specialty, "original"):
            original_keep(capture)
    except EncapsulateError as error:
        return _rejected(capture, CaptureStatus.MATCHED, "encapsulation", error.reason)
    except BaseException as error:
        capture_release(capture, error)
        raise
    with transaction.atomic():
        instances_record(capture, written)
        return capture_move(
            capture.id,
            source=CaptureStatus.MATCHED,
            target=CaptureStatus.ENCAPSULATED,
            measurement_state=DUE if written and measurement_wanted(capture) else "",
        )


def capture_step_retry(*, capture_id: UUID | str) -> str | None:
    """An operator's retry of a capture that failed at a step before delivery:
    back to that step's input state with fresh tries; the step's name, or None
    (a failed delivery is retried by `capture_delivery_retry`)."""
    capture = Capture.objects.get(id=capture_id)
    if capture.status != CaptureStatus.FAILED or capture.failed_from not in NEXT_STEP:
        return None
    source = CaptureStatus(capture.failed_from)
    if source == CaptureStatus.DELIVERING:
        return None
    moved = capture_move(
        capture.id, source=CaptureStatus.FAILED, target=source, reason="", failed_from=""
    )
    return NEXT_STEP[source] if moved else None
