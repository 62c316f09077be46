"""Capture sessions: one user, one patient, one sitting (docs/api-sessions.md).

A session only groups captures; the study they share is assigned by the
match step (`hub.matching.services`). Here: opening one, and checking that a
capture may join the one it names.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from encapsulate import CaptureContext, ContextError, Patient, context_to_json, parse_context
from hub.accounts.roles import user_is_device
from hub.captures.models import CaptureSession

SESSION_FIELD = "context.session"
BIRTH_DATE_FIELD = "context.patient.birth_date"


class SessionRefused(Exception):
    """A request about a session the hub cannot honour; `code` and `field` as the API names them."""

    def __init__(self, reason: str, *, code: str, field: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.field = field


def emr_configured() -> bool:
    return bool(settings.HUB_FHIR_URL)


def identity_unverified(context: CaptureContext, *, user: AbstractBaseUser) -> bool:
    """True when the patient is only what the client said: no EMR will check it.

    Raises SessionRefused (`birth_date_required`) when a person's capture of
    such a patient lacks the second identifier the hub then asks for; a
    device's context comes from its own records, not from typing.
    """
    if context.patient is None or emr_configured():
        return False
    if (
        context.patient.birth_date is None
        and settings.HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR
        and not user_is_device(user)
    ):
        raise SessionRefused(
            "no EMR is configured to verify the patient: give the birth date as a second "
            "identifier (context.patient.birth_date)",
            code="birth_date_required",
            field=BIRTH_DATE_FIELD,
        )
    return True


def patient_of(patient_data: object) -> Patient:
    """The context's `patient` object checked by the context's own rules."""
    try:
        context = parse_context({"patient": patient_data})
    except ContextError as error:
        raise SessionRefused(error.reason, code="context_invalid", field="patient") from None
    assert context.patient is not None
    return context.patient


def session_open(*, user: AbstractBaseUser, patient_data: object = None) -> CaptureSession:
    """A new session, for `patient_data` (the context's patient form) or for no one yet."""
    patient_json = None
    if patient_data is not None:
        patient = patient_of(patient_data)
        if (
            not emr_configured()
            and patient.birth_date is None
            and settings.HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR
        ):
            raise SessionRefused(
                "no EMR is configured to verify the patient: give the birth date as a second "
                "identifier (patient.birth_date)",
                code="birth_date_required",
                field="patient.birth_date",
            )
        patient_json = _patient_json(patient)
    return CaptureSession.objects.create(created_by=user, patient=patient_json)


def session_join(
    *, user: AbstractBaseUser, session_id: object, context: CaptureContext
) -> CaptureSession:
    """The session a capture of `user` with `context` may join, or SessionRefused.

    An empty session takes the capture's patient (a conditional update, so two
    first captures racing cannot bind it to two patients).
    """
    session = _own_session(user=user, session_id=session_id)
    if context.patient is None:
        raise SessionRefused(
            "a capture of a session names its patient (a device capture is matched by the "
            "worklist, not by a session)",
            code="session_invalid",
            field=SESSION_FIELD,
        )
    if session.patient is None:
        CaptureSession.objects.filter(pk=session.pk, patient__isnull=True).update(
            patient=_patient_json(context.patient)
        )
        session.refresh_from_db(fields=["patient"])
    if patient_key(session.patient) != patient_key(_patient_json(context.patient)):
        raise SessionRefused(
            f"session {session.id} is for another patient; open a new session for this one",
            code="session_invalid",
            field=SESSION_FIELD,
        )
    return session


def patient_key(patient_json: dict[str, Any] | None) -> tuple[str, str]:
    """Two patients are the same when their issuer (absent: empty) and id are."""
    patient_json = patient_json or {}
    return (patient_json.get("issuer") or "", patient_json.get("id") or "")


def _own_session(*, user: AbstractBaseUser, session_id: object) -> CaptureSession:
    # Unknown and another user's get one message, so no one learns another's ids.
    unknown = SessionRefused(
        f"no session {str(session_id)[:64]!r} of yours; open one with POST /api/v1/sessions",
        code="session_invalid",
        field=SESSION_FIELD,
    )
    try:
        session_uuid = uuid.UUID(str(session_id)) if isinstance(session_id, str) else None
    except ValueError:
        session_uuid = None
    session = (
        CaptureSession.objects.filter(pk=session_uuid, created_by=user).first()
        if session_uuid
        else None
    )
    if session is None:
        raise unknown
    return session


def _patient_json(patient: Patient) -> dict[str, Any]:
    return context_to_json(CaptureContext(patient=patient))["patient"]
