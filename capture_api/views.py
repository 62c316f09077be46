"""Thin views: validate the request, call one hub service, shape the answer."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from capture_api.auditing import audit_request, capture_create_note
from capture_api.disk_guard import disk_room_require
from capture_api.errors import ApiProblem, ErrorEnvelope
from capture_api.pagination import BoundedLimitOffsetPagination
from capture_api.serializers import CaptureSerializer, CaptureUploadSerializer
from hub.accounts.roles import user_sees_all_captures
from hub.captures.models import Capture
from hub.captures.receive import Upload
from hub.pipeline.start import capture_submit

SNIFF_BYTES = 4096
# Room for the context (capture_api.context_input caps it at 64 KiB) and multipart framing.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
IDEMPOTENCY_KEY_MAX = 255  # Capture.idempotency_key's length


def visible_captures(request: Request) -> QuerySet[Capture]:
    captures = Capture.objects.select_related("wound_photo").prefetch_related(
        "instances", "deliveries"
    )
    if user_sees_all_captures(request.user):
        return captures
    return captures.filter(created_by=request.user)


class CaptureListCreate(ErrorEnvelope, generics.ListAPIView):
    serializer_class = CaptureSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = BoundedLimitOffsetPagination
    error_statuses = {"GET": (401, 429), "POST": (400, 401, 403, 413, 415, 422, 429, 507)}
    error_codes = {
        "POST": (
            "context_invalid",
            "session_invalid",
            "birth_date_required",
            "file_invalid",
            "invalid_request",
            "not_authenticated",
            "permission_denied",
            "file_too_large",
            "file_type_unsupported",
            "idempotency_key_reused",
            "throttled",
            "insufficient_storage",
        )
    }
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "captures"

    def get_queryset(self) -> QuerySet[Capture]:
        captures = visible_captures(self.request)
        if status_filter := self.request.query_params.get("status"):
            captures = captures.filter(status=status_filter)
        if upload_id := self.request.query_params.get("upload"):
            captures = captures.filter(resumable_upload__id=upload_id)
        return captures

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().list(request, *args, **kwargs)
        for item in response.data.get("results", []):
            audit_request(request, "capture.read", capture_id=item["id"], note="in a list")
        return response

    @extend_schema(
        request={
            "multipart/form-data": OpenApiRequest(
                CaptureUploadSerializer,
                # The context part is JSON: Swagger UI then sends the object as JSON text.
                encoding={"context": {"contentType": "application/json"}},
            )
        },
        responses={201: CaptureSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="repeat it on a retried upload to get the first capture back",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Stores the original durably and starts the pipeline; 201 only once it is on disk.

        A refusal (CaptureRefused) is answered by the error envelope's handler.
        """
        refuse_over_limit(request)
        disk_room_require(incoming_bytes=int(request.META.get("CONTENT_LENGTH") or 0))
        idempotency_key = _idempotency_key(request)
        upload = CaptureUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        head = file.read(SNIFF_BYTES)
        received = capture_submit(
            user=request.user,
            upload=Upload(name=file.name or "", size=file.size, head=head, chunks=file.chunks()),
            context_data=upload.validated_data["context"],
            idempotency_key=idempotency_key,
            max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
        )
        audit_request(
            request,
            "capture.create",
            capture_id=received.capture.id,
            note=capture_create_note(
                received.capture, "" if received.created else "replayed for its Idempotency-Key"
            ),
        )
        body = CaptureSerializer(received.capture, context={"request": request}).data
        headers = {"Location": body["url"]}
        if not received.created:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


def refuse_over_limit(request: Request) -> None:
    """413 from Content-Length alone, before a byte of the body is read."""
    announced = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.HUB_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
    if announced.isdigit() and int(announced) > limit:
        raise ApiProblem(
            f"the request is {announced} bytes; this hub takes files of at most "
            f"{settings.HUB_MAX_UPLOAD_BYTES}",
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            code="file_too_large",
            field="Content-Length",
        )


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and (
        len(key) > IDEMPOTENCY_KEY_MAX or not all("!" <= char <= "~" for char in key)
    ):
        raise ApiProblem(
            f"Idempotency-Key is 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters",
            status=status.HTTP_400_BAD_REQUEST,
            code="invalid_request",
            field="Idempotency-Key",
        )
    return key


class CaptureDetail(ErrorEnvelope, generics.RetrieveAPIView):
    serializer_class = CaptureSerializer
    error_statuses = {"GET": (401, 404)}

    def get_queryset(self) -> QuerySet[Capture]:
        return visible_captures(self.request)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        audit_request(request, "capture.read", capture_id=response.data["id"])
        return response
