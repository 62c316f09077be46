"""`GET /api/v1/audit?since=ISO-DATETIME` (admins): the audit trail as a FHIR Bundle (BALP)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from capture_api.errors import ErrorEnvelope
from capture_api.permissions import IsHubAdmin
from hub.audit.fhir import audit_bundle
from hub.audit.services import audit_events_since

# One answer's events at most; ask again with `since` set to the last one's time.
MAX_EVENTS = 5000


class AuditQuery(serializers.Serializer):
    since = serializers.DateTimeField(help_text="ISO 8601: events recorded at or after it")
    until = serializers.DateTimeField(required=False, help_text="and before this, if given")


class AuditExport(ErrorEnvelope, APIView):
    permission_classes = [IsHubAdmin]
    error_statuses = {"GET": (400, 401, 403)}

    @extend_schema(
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        """A FHIR `Bundle` (searchset) of `AuditEvent`s, oldest first, at most 5000."""
        query = AuditQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = audit_events_since(
            since=query.validated_data["since"], until=query.validated_data.get("until")
        )[:MAX_EVENTS]
        bundle = audit_bundle(
            events,
            capture_url=lambda id: reverse("capture-detail", kwargs={"pk": id}, request=request),
        )
        return Response(bundle)
