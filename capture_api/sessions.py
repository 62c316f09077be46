"""Capture sessions (docs/api-sessions.md): thin views over hub.captures.sessions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle

from capture_api.auditing import audit_request
from capture_api.errors import ApiProblem, ErrorEnvelope
from hub.accounts.roles import user_sees_all_captures
from hub.captures.models import CaptureSession
from hub.captures.sessions import SessionRefused, session_open

PATIENT_EXAMPLE = {
    "id": "MRN-0042",
    "issuer": "HOSP",
    "name": "DOE^JANE",
    "birth_date": "1950-01-31",
    "sex": "F",
}


class SessionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    captures = serializers.SerializerMethodField()

    class Meta:
        model = CaptureSession
        fields = ["id", "url", "patient", "created_at", "captures"]

    def get_url(self, session: CaptureSession) -> str:
        return reverse(
            "session-detail", kwargs={"pk": session.pk}, request=self.context.get("request")
        )

    def get_captures(self, session: CaptureSession) -> list[str]:
        return [str(pk) for pk in session.captures.values_list("pk", flat=True)]


SESSION_OPEN = inline_serializer(
    "SessionOpen",
    {
        "patient": serializers.DictField(
            required=False,
            allow_null=True,
            help_text="the capture context's patient object (docs/capture-context.md); "
            "absent: the session takes its first capture's patient",
        )
    },
)


class SessionCreate(ErrorEnvelope, generics.GenericAPIView):
    serializer_class = SessionSerializer
    parser_classes = [JSONParser]
    error_statuses = {"POST": (400, 401, 415, 429)}
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "captures"

    @extend_schema(
        request=SESSION_OPEN,
        responses={201: SessionSerializer},
        examples=[
            OpenApiExample("for no one yet", value={}, request_only=True),
            OpenApiExample("for a patient", value={"patient": PATIENT_EXAMPLE}, request_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        """Opens a capture session; its captures name it as `"session": "<id>"`."""
        body: Any = request.data if request.data is not None else {}
        if not isinstance(body, dict):
            raise ApiProblem("the body is a JSON object", status=400, code="malformed_request")
        unknown = sorted(set(body) - {"patient"})
        if unknown:
            raise ApiProblem(
                f"{unknown[0]} is not a known field (known: patient)",
                status=400,
                code="invalid_request",
                field=str(unknown[0]),
            )
        try:
            session = session_open(user=request.user, patient_data=body.get("patient"))
        except SessionRefused as refused:
            raise ApiProblem(
                refused.reason, status=400, code=refused.code, field=refused.field
            ) from None
        audit_request(request, "session.create", entity=f"session:{session.id}")
        answer = SessionSerializer(session, context={"request": request}).data
        return Response(answer, status=status.HTTP_201_CREATED, headers={"Location": answer["url"]})


class SessionDetail(ErrorEnvelope, generics.RetrieveAPIView):
    serializer_class = SessionSerializer
    error_statuses = {"GET": (401, 404)}

    def get_queryset(self) -> QuerySet[CaptureSession]:
        sessions = CaptureSession.objects.all()
        if user_sees_all_captures(self.request.user):
            return sessions
        return sessions.filter(created_by=self.request.user)
