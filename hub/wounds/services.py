"""Which wound a photo shows, and a patient's wounds over time.

A wound or burn photo is given its wound before its DICOM is written
(`hub.pipeline.measure.photo_wound_tracking`, from the encapsulation step): the
one the capture context names by id, or a new one. The assignment is made once
(one `WoundPhoto` per capture), so a retried step and the measurement step find
the same wound, and the photo and its SR carry the same Tracking UID.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from pydicom.uid import generate_uid

from encapsulate import parse_context
from hub.captures.models import Capture
from hub.wounds.models import Wound, WoundPhoto

MEASURED = "measured"  # hub.pipeline.measure.MEASURED (the pipeline sits above)
_NEW_WOUND_TRIES = 3


class WoundRefused(Exception):
    """The context names a wound the photo cannot be of; `reason` is for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _patient(capture: Capture) -> tuple[str, str]:
    patient = parse_context(capture.context).patient
    if patient is None:
        raise WoundRefused("the capture has no patient, so its wound cannot be named")
    return patient.id, patient.issuer or ""


def _new_wound(patient_id: str, issuer: str, body_site: object) -> Wound:
    for _ in range(_NEW_WOUND_TRIES):
        last = Wound.objects.filter(patient_id=patient_id, patient_issuer=issuer).aggregate(
            n=Max("number")
        )["n"]
        try:
            with transaction.atomic():
                return Wound.objects.create(
                    patient_id=patient_id,
                    patient_issuer=issuer,
                    number=(last or 0) + 1,
                    tracking_uid=generate_uid(),
                    body_site=body_site,
                )
        except IntegrityError:
            continue  # another photo of this patient took the number first
    raise WoundRefused(f"no new wound number could be had for patient {patient_id}")


def capture_wound(*, capture: Capture) -> Wound:
    """The wound ``capture`` shows, assigned on the first call and the same ever after.

    Raises ``WoundRefused`` when the context names a wound the hub does not know
    or that is another patient's. A capture corrected to another patient
    (`hub.pipeline.operators.capture_correct`) loses the wound it had: its photo
    and SR are written again, and must not carry the first patient's wound.
    """
    patient_id, issuer = _patient(capture)
    known = WoundPhoto.objects.filter(capture=capture).select_related("wound").first()
    if known is not None:
        if (known.wound.patient_id, known.wound.patient_issuer) == (patient_id, issuer):
            return known.wound
        known.delete()
    named = parse_context(capture.context).wound
    if named is not None and named.id is not None:
        wound = wound_find(named.id)
        if wound is None or (wound.patient_id, wound.patient_issuer) != (patient_id, issuer):
            raise WoundRefused(
                f"context.wound.id {named.id} names no wound of patient {patient_id}"
            )
    else:
        wound = _new_wound(patient_id, issuer, capture.context.get("body_site"))
    try:
        with transaction.atomic():
            WoundPhoto.objects.create(wound=wound, capture=capture)
    except IntegrityError:  # a concurrent try assigned it first: theirs stands
        return WoundPhoto.objects.select_related("wound").get(capture=capture).wound
    return wound


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class WoundSizePoint:
    """One measured photo of the wound: its time, sizes and how it was outlined."""

    capture_id: str
    taken_at: datetime
    area_cm2: float
    length_cm: float
    width_cm: float
    method: str


@dataclass(frozen=True)
class WoundHistory:
    wound: Wound
    last_photo: Capture | None
    series: list[WoundSizePoint]


def photo_taken_at(capture: Capture) -> datetime:
    """When the photo was taken as the client said, else when the hub received it."""
    captured = parse_context(capture.context).captured_at
    return captured or capture.created_at


def patient_wounds(*, patient_id: str, issuer: str | None = None) -> list[WoundHistory]:
    """The patient's wounds, each with its last photo and its area series (oldest first).
    Without ``issuer``, the wounds of that MRN under any issuer."""
    wounds = Wound.objects.filter(patient_id=patient_id)
    if issuer is not None:
        wounds = wounds.filter(patient_issuer=issuer)
    histories = []
    for wound in wounds.prefetch_related("photos__capture"):
        photos = sorted((p.capture for p in wound.photos.all()), key=photo_taken_at)
        series = [
            WoundSizePoint(
                capture_id=str(c.id),
                taken_at=photo_taken_at(c),
                area_cm2=c.measurement["area_cm2"],
                length_cm=c.measurement["length_cm"],
                width_cm=c.measurement["width_cm"],
                method=c.measurement["method"],
            )
            for c in photos
            if c.measurement_state == MEASURED and c.measurement
        ]
        histories.append(
            WoundHistory(wound=wound, last_photo=photos[-1] if photos else None, series=series)
        )
    return histories


def wound_find(wound_id: str) -> Wound | None:
    """The wound of that id; None for none, or for what is not a wound id at all."""
    key = _uuid_or_none(wound_id)
    return None if key is None else Wound.objects.filter(pk=key).first()


def wound_last_photo(wound: Wound) -> Capture | None:
    photos = [p.capture for p in wound.photos.select_related("capture")]
    return max(photos, key=photo_taken_at) if photos else None
