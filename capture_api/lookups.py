"""Patient, order and encounter look-ups for the capture clients (through the hub)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from capture_api.auditing import audit_request
from capture_api.context_input import text_fault
from capture_api.errors import ApiProblem, ErrorEnvelope
from capture_api.permissions import MayLookUpPatients
from hub.audit.models import Outcome
from hub.emr.client import FhirError, FhirUnavailable
from hub.matching.lookups import (
    LookupUnavailable,
    patient_encounters,
    patient_orders,
    patients_find,
)

# Seconds a client waits before asking again when the EMR does not answer.
EMR_RETRY_AFTER_SECONDS = 30
LOOKUP_ERRORS = (401, 404, 501, 502, 503)

LOOKUP_ANSWER = inline_serializer(
    "LookupAnswer",
    {
        "lookup": serializers.ChoiceField(["fhir"]),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


def _answer(look_up: Callable[[], Any]) -> Response:
    """The look-up's results; None (no such patient) and EMR trouble are ApiProblems."""
    try:
        results = look_up()
    except LookupUnavailable as error:
        raise ApiProblem(str(error), status=501, code="emr_not_configured") from None
    except FhirUnavailable as error:
        raise ApiProblem(
            f"the EMR does not answer: {error.reason}",
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            code="emr_unavailable",
            retry_after=EMR_RETRY_AFTER_SECONDS,
        ) from None
    except FhirError as error:
        raise ApiProblem(
            f"the EMR refused the look-up: {error.reason}",
            status=status.HTTP_502_BAD_GATEWAY,
            code="emr_refused",
        ) from None
    if results is None:
        raise ApiProblem(
            "no single active patient has this identifier",
            status=status.HTTP_404_NOT_FOUND,
            code="patient_not_found",
            field="identifier",
        )
    return Response({"lookup": "fhir", "results": results})


class IdentifierSerializer(serializers.Serializer):
    identifier = serializers.CharField(
        max_length=64, help_text="the patient's MRN, exactly as on the wristband"
    )

    def validate_identifier(self, value: str) -> str:
        if text_fault(value):
            raise serializers.ValidationError("the identifier holds a control character")
        return value


def _identifier(request: Request) -> str:
    form = IdentifierSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    return form.validated_data["identifier"]


def _audited(request: Request, action: str, identifier: str, answer: Callable[[], Response]):
    """Every look-up on record, the refused ones included, with the identifier asked for."""
    try:
        response = answer()
    except ApiProblem as problem:
        audit_request(
            request,
            action,
            patient=identifier,
            outcome=Outcome.REFUSED if problem.status < 500 else Outcome.FAILED,
            note=problem.code,
        )
        raise
    audit_request(request, action, patient=identifier)
    return response


class LookupView(ErrorEnvelope, APIView):
    """A look-up by MRN, sent in the POST body so that no URL or access log holds it."""

    permission_classes = [MayLookUpPatients]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookup"
    error_statuses = {"POST": (400, 401, 403, 415, 429, *LOOKUP_ERRORS[1:])}


class PatientSearch(LookupView):
    @extend_schema(request=IdentifierSerializer, responses={200: LOOKUP_ANSWER})
    def post(self, request: Request) -> Response:
        """Active patients by wristband MRN: name, birth date and sex, to confirm who it is."""
        identifier = _identifier(request)
        # An empty list is "no such patient": None, as the other look-ups say it.
        return _audited(
            request,
            "patient.search",
            identifier,
            lambda: _answer(
                lambda: [asdict(p) for p in patients_find(identifier=identifier)] or None
            ),
        )


class PatientOrders(LookupView):
    @extend_schema(request=IdentifierSerializer, responses={200: LOOKUP_ANSWER})
    def post(self, request: Request) -> Response:
        """The patient's open orders (ServiceRequest, status active)."""
        identifier = _identifier(request)
        return _audited(
            request,
            "patient.orders",
            identifier,
            lambda: _answer(lambda: patient_orders(identifier=identifier)),
        )


class PatientEncounters(LookupView):
    @extend_schema(request=IdentifierSerializer, responses={200: LOOKUP_ANSWER})
    def post(self, request: Request) -> Response:
        """The patient's current encounters (Encounter, status in-progress)."""
        identifier = _identifier(request)
        return _audited(
            request,
            "patient.encounters",
            identifier,
            lambda: _answer(lambda: patient_encounters(identifier=identifier)),
        )
