"""tus 1.0.0 endpoints: map HTTP onto the upload services, nothing more.

Section names refer to https://tus.io/protocols/resumable-upload (version 1.0.0).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from knox.auth import TokenAuthentication
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from capture_api.auditing import audit_request, capture_create_note
from capture_api.disk_guard import disk_room_require
from capture_api.errors import ErrorEnvelope
from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tus import protocol
from capture_api.tus import schema as tus_schema
from capture_api.tus.append import upload_append
from capture_api.tus.auth import UploadTokenAuthentication
from capture_api.tus.protocol import TusRefusal
from capture_api.tus.service import upload_create, upload_for, upload_terminate

# Core Protocol, X-HTTP-Method-Override: for clients behind proxies that only pass GET/POST.
OVERRIDABLE_METHODS = {"POST", "HEAD", "PATCH", "DELETE", "OPTIONS"}


class TokenOrDiscovery(IsAuthenticated):
    """OPTIONS (server discovery) tells nothing private; everything else needs a user."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method == "OPTIONS" or super().has_permission(request, view)


class TusView(ErrorEnvelope, APIView):
    # The API's own pair (settings.REST_FRAMEWORK), with knox's cheaper per request.
    authentication_classes = [UploadTokenAuthentication, SessionAuthentication]
    permission_classes = [TokenOrDiscovery]

    def get_authenticators(self) -> list:
        if getattr(self, "swagger_fake_view", False):
            # The schema names knox's scheme, the one the rest of the API uses: the
            # upload class differs from it only in housekeeping, not on the wire.
            return [TokenAuthentication(), SessionAuthentication()]
        return super().get_authenticators()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        override = request.headers.get("X-HTTP-Method-Override", "").strip().upper()
        if override in OVERRIDABLE_METHODS:
            request.method = override
        return super().dispatch(request, *args, **kwargs)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """Requests.OPTIONS: the server's version, extensions and limits (204)."""
        response = HttpResponse(status=204)
        for name, value in protocol.server_headers(max_size=settings.HUB_MAX_UPLOAD_BYTES).items():
            response[name] = value
        return response

    def handle_exception(self, exc: Exception) -> HttpResponse:
        # The error envelope, with the status and headers tus names (TusRefusal).
        response = super().handle_exception(exc)
        if response.status_code in protocol.REASON_PHRASES:
            response.reason_phrase = protocol.REASON_PHRASES[response.status_code]
        return response

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Headers.Tus-Resumable: in every response but OPTIONS' (harmless there too).
        response["Tus-Resumable"] = protocol.TUS_VERSION
        return response


class UploadCreate(TusView):
    error_statuses = {"POST": (400, 401, 409, 411, 412, 413, 415, 423, 460, 507)}

    @tus_schema.creation
    def post(self, request: Request) -> HttpResponse:
        """Creation (+ creation-with-upload): 201 with the upload's absolute Location."""
        protocol.require_version(request.headers.get("Tus-Resumable"))
        if "Upload-Defer-Length" in request.headers:
            raise TusRefusal(
                "creation-defer-length is not supported; send Upload-Length",
                code="defer_length_unsupported",
                field="Upload-Defer-Length",
            )
        with_upload = _content_length(request) > 0
        if with_upload:
            protocol.require_offset_content_type(request.content_type)
        length = protocol.parse_size(request.headers.get("Upload-Length"), header="Upload-Length")
        # The whole file's room is checked at creation: a refusal costs the client no byte
        # (a file over the limit is upload_create's permanent 413, not a full disk).
        if length <= settings.HUB_MAX_UPLOAD_BYTES:
            disk_room_require(incoming_bytes=length)
        upload = upload_create(
            owner=request.user,
            length=length,
            metadata=request.headers.get("Upload-Metadata"),
            max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
        )
        location = request.build_absolute_uri(reverse("tus-upload", args=[upload.id]))
        if with_upload:
            upload = _append(request, upload.id, offset=0)
        response = _upload_response(upload, status=201)
        response["Location"] = location
        return response


@extend_schema(exclude=True)  # the collection without its slash: the same operation
class UploadCreateUnslashed(UploadCreate):
    pass


class UploadResource(TusView):
    error_statuses = {
        "PATCH": (400, 401, 404, 409, 410, 411, 412, 413, 415, 423, 460, 507),
        "DELETE": (401, 404, 409, 412),
    }

    def head(self, request: Request, upload_id: str) -> HttpResponse:
        """Requests.HEAD: the offset to resume from; never cached."""
        protocol.require_version(request.headers.get("Tus-Resumable"))
        upload = upload_for(owner=request.user, upload_id=upload_id)
        if upload.status == UploadStatus.REFUSED:
            response = HttpResponse(status=410)
        else:
            response = _upload_response(upload, status=200)
            response["Upload-Length"] = str(upload.length)
            if upload.metadata:
                response["Upload-Metadata"] = upload.metadata
        response["Cache-Control"] = "no-store"
        return response

    @tus_schema.append
    def patch(self, request: Request, upload_id: str) -> HttpResponse:
        """Requests.PATCH: 204 with the new Upload-Offset once the bytes are on disk."""
        protocol.require_version(request.headers.get("Tus-Resumable"))
        protocol.require_offset_content_type(request.content_type)
        offset = protocol.parse_size(request.headers.get("Upload-Offset"), header="Upload-Offset")
        return _upload_response(_append(request, upload_id, offset=offset), status=204)

    @tus_schema.termination
    def delete(self, request: Request, upload_id: str) -> HttpResponse:
        """Termination: 204, and the upload and its bytes are gone."""
        protocol.require_version(request.headers.get("Tus-Resumable"))
        upload_terminate(owner=request.user, upload_id=upload_id)
        return HttpResponse(status=204)


def _append(request: Request, upload_id: str, *, offset: int) -> ResumableUpload:
    upload = upload_append(
        owner=request.user,
        upload_id=upload_id,
        offset=offset,
        # DRF hands over the unread WSGI input: the body streams, it is never loaded whole.
        body=request.stream,
        body_length=_content_length(request),
        checksum=protocol.parse_checksum(request.headers.get("Upload-Checksum")),
        max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
    )
    if upload.status == UploadStatus.COMPLETE and upload.capture_id:
        audit_request(
            request,
            "capture.create",
            capture_id=upload.capture_id,
            note=capture_create_note(upload.capture, "tus"),
        )
    return upload


def _content_length(request: Request) -> int:
    length = request.META.get("CONTENT_LENGTH")
    if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
        # Django reads a body without Content-Length as empty: refuse rather than lose it.
        raise TusRefusal(
            "send Content-Length; chunked request bodies are not taken",
            code="length_required",
            status=411,
            field="Content-Length",
        )
    return protocol.parse_size(length or "0", header="Content-Length")


def _upload_response(upload: ResumableUpload, *, status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Upload-Offset"] = str(upload.offset)
    if upload.status == UploadStatus.RECEIVING:
        response["Upload-Expires"] = protocol.expires_header(upload.expires_at)
    return response
