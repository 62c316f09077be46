"""Patient, order and encounter look-ups for the capture clients (through the hub)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from capture_api.errors import ApiProblem, ErrorEnvelope
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


class PatientSearch(ErrorEnvelope, APIView):
    error_statuses = {"GET": (400, *LOOKUP_ERRORS)}

    @extend_schema(
        parameters=[OpenApiParameter("identifier", str, required=True, description="the MRN")],
        responses={200: LOOKUP_ANSWER},
    )
    def get(self, request: Request) -> Response:
        """Active patients by wristband MRN; 404 `patient_not_found` when there is none."""
        identifier = request.query_params.get("identifier", "").strip()
        if not identifier:
            raise ApiProblem(
                "give the patient's MRN: ?identifier=...",
                status=status.HTTP_400_BAD_REQUEST,
                code="invalid_request",
                field="identifier",
            )
        # An empty list is "no such patient": None, as the other look-ups say it.
        return _answer(lambda: [asdict(p) for p in patients_find(identifier=identifier)] or None)


class PatientOrders(ErrorEnvelope, APIView):
    error_statuses = {"GET": LOOKUP_ERRORS}

    @extend_schema(responses={200: LOOKUP_ANSWER})
    def get(self, request: Request, identifier: str) -> Response:
        """The patient's open orders (ServiceRequest, status active)."""
        return _answer(lambda: patient_orders(identifier=identifier))


class PatientEncounters(ErrorEnvelope, APIView):
    error_statuses = {"GET": LOOKUP_ERRORS}

    @extend_schema(responses={200: LOOKUP_ANSWER})
    def get(self, request: Request, identifier: str) -> Response:
        """The patient's current encounters (Encounter, status in-progress)."""
        return _answer(lambda: patient_encounters(identifier=identifier))
