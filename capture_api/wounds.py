"""A patient's wounds for the capture app: the wound list and each wound's last photo.

The list is the issue's `GET /api/v1/patients/{...}/wounds` in the form the
other look-ups take (issue 10): the MRN travels in a POST body, never in a URL
an access log keeps. A wound's photo is named by the wound's own opaque id.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from capture_api.auditing import audit_request
from capture_api.errors import ApiProblem, ErrorEnvelope
from capture_api.lookups import IdentifierSerializer
from capture_api.permissions import MayLookUpPatients
from hub.audit.models import Outcome
from hub.wounds.services import (
    WoundHistory,
    patient_wounds,
    photo_taken_at,
    wound_find,
    wound_last_photo,
)
from hub.wounds.thumbnails import photo_thumbnail


class WoundsQuerySerializer(IdentifierSerializer):
    issuer = serializers.CharField(
        max_length=64, required=False, help_text="the MRN's issuer; without it, any issuer's"
    )


WOUNDS_ANSWER = inline_serializer(
    "WoundsAnswer", {"results": serializers.ListField(child=serializers.DictField())}
)


def _wound_json(history: WoundHistory, request: Request) -> dict[str, Any]:
    wound, last = history.wound, history.last_photo
    return {
        "id": str(wound.id),
        "tracking_identifier": wound.tracking_identifier,
        "tracking_uid": wound.tracking_uid,
        "body_site": wound.body_site,
        "last_photo": None
        if last is None
        else {
            "capture": str(last.id),
            "taken_at": photo_taken_at(last).isoformat(),
            "thumbnail": reverse("wound-thumbnail", kwargs={"wound_id": wound.id}, request=request),
        },
        "series": [
            {
                "capture": point.capture_id,
                "date": point.taken_at.isoformat(),
                "area_cm2": point.area_cm2,
                "length_cm": point.length_cm,
                "width_cm": point.width_cm,
                "method": point.method,
            }
            for point in history.series
        ],
    }


class PatientWounds(ErrorEnvelope, APIView):
    permission_classes = [MayLookUpPatients]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookup"
    error_statuses = {"POST": (400, 401, 403, 415, 429)}

    @extend_schema(request=WoundsQuerySerializer, responses={200: WOUNDS_ANSWER})
    def post(self, request: Request) -> Response:
        """The patient's wounds: body site, last photo (its thumbnail) and the area series."""
        query = WoundsQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        identifier = query.validated_data["identifier"]
        histories = patient_wounds(patient_id=identifier, issuer=query.validated_data.get("issuer"))
        audit_request(request, "patient.wounds", patient=identifier)
        return Response({"results": [_wound_json(h, request) for h in histories]})


class WoundThumbnail(ErrorEnvelope, APIView):
    permission_classes = [MayLookUpPatients]
    error_statuses = {"GET": (401, 403, 404)}

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, wound_id: str) -> HttpResponse:
        """The wound's last photo, upright, at most 640 px: the ghost to frame the next by."""
        wound = wound_find(wound_id)
        last = wound_last_photo(wound) if wound is not None else None
        picture = photo_thumbnail(last) if last is not None else None
        if wound is None or last is None or picture is None:
            audit_request(request, "wound.photo.read", outcome=Outcome.REFUSED, note="not found")
            raise ApiProblem("there is no such wound, or no photo of it", status=404,
                             code="not_found")  # fmt: skip
        audit_request(
            request, "wound.photo.read", capture_id=last.id, patient=wound.patient_id,
            note="thumbnail",
        )  # fmt: skip
        response = HttpResponse(picture, content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response
