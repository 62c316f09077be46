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

from hub.matching.fhir import FhirError, FhirUnavailable
from hub.matching.lookups import (
    LookupUnavailable,
    patient_encounters,
    patient_orders,
    patients_find,
)

LOOKUP_ANSWER = inline_serializer(
    "LookupAnswer",
    {
        "lookup": serializers.ChoiceField(["fhir", "none"]),
        "results": serializers.ListField(child=serializers.DictField()),
        "detail": serializers.CharField(required=False),
    },
)


def _answer(look_up: Callable[[], Any]) -> Response:
    try:
        results = look_up()
    except LookupUnavailable as error:
        return Response({"lookup": "none", "results": [], "detail": str(error)})
    except FhirUnavailable as error:
        return Response(
            {"detail": f"the EMR does not answer: {error.reason}"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    except FhirError as error:
        return Response(
            {"detail": f"the EMR refused the look-up: {error.reason}"},
            status=status.HTTP_502_BAD_GATEWAY,
        )
    if results is None:
        return Response(
            {"detail": "no single active patient has this identifier"},
            status=status.HTTP_404_NOT_FOUND,
        )
    return Response({"lookup": "fhir", "results": results})


class PatientSearch(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("identifier", str, required=True, description="the MRN")],
        responses={200: LOOKUP_ANSWER},
    )
    def get(self, request: Request) -> Response:
        """Patients by wristband MRN; `lookup: none` when the hub has no EMR."""
        identifier = request.query_params.get("identifier", "").strip()
        if not identifier:
            return Response(
                {"identifier": ["give the patient's MRN: ?identifier=..."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return _answer(lambda: [asdict(p) for p in patients_find(identifier=identifier)])


class PatientOrders(APIView):
    @extend_schema(responses={200: LOOKUP_ANSWER})
    def get(self, request: Request, identifier: str) -> Response:
        """The patient's open orders (ServiceRequest, status active)."""
        return _answer(lambda: patient_orders(identifier=identifier))


class PatientEncounters(APIView):
    @extend_schema(responses={200: LOOKUP_ANSWER})
    def get(self, request: Request, identifier: str) -> Response:
        """The patient's current encounters (Encounter, status in-progress)."""
        return _answer(lambda: patient_encounters(identifier=identifier))
