"""One error envelope for every error answer of /api/v1/ (docs/api-errors.md).

    {"error": {"code": "...", "message": "...", "field": "..." | null, "retryable": bool}}

`code` is stable and meant for programs; `message` is for people; `field`
names the request part at fault (a form field, a query parameter, a header)
or is null; `retryable` says whether sending the same request again later
can succeed. It is decided here, in `is_retryable`, and nowhere else: the
clients read it instead of keeping their own lists of statuses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from hub.captures.receive import CaptureRefused

logger = logging.getLogger(__name__)

# RFC 9110 15.5.9 / 15.5.20 / 15.6: statuses that say "not now" rather than "never".
_RETRYABLE_STATUSES = {408, 425, 429}
# Codes whose status alone would mislead a client.
_RETRYABLE_BY_CODE = {
    # tus: the client asks HEAD for the offset and carries on from there.
    "upload_offset_mismatch": True,
    # Another request holds the upload for a moment.
    "upload_busy": True,
    # tus Checksum extension: the chunk was damaged on its way; sending it again helps.
    "checksum_mismatch": True,
    # The EMR answered, and said no: it will say no again.
    "emr_refused": False,
    # No EMR is configured: that lasts until an administrator changes the settings.
    "emr_not_configured": False,
}

# CaptureRefused carries a status and a field; these are the codes they stand for.
_REFUSAL_CODES = {
    413: "file_too_large",
    415: "file_type_unsupported",
    422: "idempotency_key_reused",
}

# DRF exceptions whose default code is not the one this API documents.
_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "content_type_unsupported",
}
# The request part at fault for DRF's own refusals.
_DRF_FIELDS = {
    exceptions.NotAuthenticated: "Authorization",
    exceptions.AuthenticationFailed: "Authorization",
    exceptions.PermissionDenied: "Authorization",
    exceptions.UnsupportedMediaType: "Content-Type",
    exceptions.NotAcceptable: "Accept",
}


def is_retryable(status: int, code: str) -> bool:
    """Whether the same request, sent again later, can succeed."""
    if code in _RETRYABLE_BY_CODE:
        return _RETRYABLE_BY_CODE[code]
    return status in _RETRYABLE_STATUSES or status >= 500


class ApiProblem(Exception):
    """An error answer: its status, stable code, readable message and the part at fault.

    `retry_after` (seconds) becomes a Retry-After header; `headers` are sent as
    they are (tus answers carry Upload-Offset, Tus-Version).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        field: str | None = None,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field
        self.retry_after = retry_after
        self.headers = dict(headers or {})


def error_body(*, status: int, code: str, message: str, field: str | None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "field": field,
            "retryable": is_retryable(status, code),
        }
    }


def problem_response(problem: ApiProblem) -> Response:
    body = error_body(
        status=problem.status, code=problem.code, message=problem.message, field=problem.field
    )
    headers = dict(problem.headers)
    if problem.retry_after is not None:
        headers["Retry-After"] = str(problem.retry_after)
    return Response(body, status=problem.status, headers=headers)


def refusal_code(*, status: int, field: str) -> str:
    """The code of a CaptureRefused (the hub's refusal of a file or its context)."""
    if status in _REFUSAL_CODES:
        return _REFUSAL_CODES[status]
    return "context_invalid" if field == "context" else "file_invalid"


def problem_of_refusal(refused: CaptureRefused) -> ApiProblem:
    return ApiProblem(
        refused.reason,
        status=refused.status,
        code=refused.code or refusal_code(status=refused.status, field=refused.field),
        field=refused.field,
    )


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER for the API's views: every error in the envelope.

    Anything unforeseen is logged with its traceback and answered as a
    retryable 500, never as an HTML page a client cannot read.
    """
    set_rollback()
    if isinstance(exc, CaptureRefused):
        exc = problem_of_refusal(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApiProblem):
        return problem_response(exc)
    if isinstance(exc, exceptions.APIException):
        return problem_response(_problem_of_drf(exc))
    logger.error("unexpected error answering %s", _path(context), exc_info=exc)
    return problem_response(
        ApiProblem(
            "the hub failed to answer this request; try again later",
            status=500,
            code="server_error",
        )
    )


def _problem_of_drf(exc: exceptions.APIException) -> ApiProblem:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    retry_after = max(1, round(wait)) if wait is not None else None
    if isinstance(exc, exceptions.ValidationError):
        field, message, drf_code = _first_fault(exc.detail)
        if drf_code == "authorization":  # AuthTokenSerializer: the credentials do not match
            return ApiProblem(message, status=exc.status_code, code="credentials_invalid")
        code = "context_invalid" if (field or "").split(".")[0] == "context" else "invalid_request"
        return ApiProblem(message, status=exc.status_code, code=code, field=field)
    code = _DRF_CODES.get(type(exc)) or str(exc.default_code)
    return ApiProblem(
        str(exc.detail),
        status=exc.status_code,
        code=code,
        field=_DRF_FIELDS.get(type(exc)),
        retry_after=retry_after,
        headers=headers,
    )


def _first_fault(detail: Any, path: str = "") -> tuple[str | None, str, str]:
    """The first failing field of a ValidationError's detail (dotted for nested ones).

    Clients correct one thing at a time; the message names the others, if any.
    """
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        name = None if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
        field, message, code = _first_fault(value, name or path)
        others = [k for k in list(detail)[1:] if k != "non_field_errors"]
        if others and not path:
            message += " (also at fault: " + ", ".join(map(str, others)) + ")"
        return field, message, code
    if isinstance(detail, list) and detail:
        return _first_fault(detail[0], path)
    code = getattr(detail, "code", None) or "invalid"
    return (path or None), str(detail), str(code)


def _path(context: Mapping[str, Any]) -> str:
    request = context.get("request")
    return request.get_full_path() if isinstance(request, Request) else "a request"


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable, for programs: see docs/api-errors.md")
    message = serializers.CharField(help_text="one sentence for the person using the client")
    field = serializers.CharField(
        allow_null=True, help_text="the request part at fault (field, parameter, header), or null"
    )
    retryable = serializers.BooleanField(
        help_text="true: the same request may succeed later (honour Retry-After); "
        "false: it will fail the same way"
    )


class ErrorSerializer(serializers.Serializer):
    """The one error envelope of /api/v1/ (component `Error`)."""

    error = ErrorBodySerializer()


ERROR_DESCRIPTIONS = {
    400: "the request is malformed or a part of it is invalid (`field` names it)",
    401: "no valid token: send `Authorization: Token ...`",
    403: "the signed-in user may not do this",
    404: "nothing of this kind, visible to this user, has this id",
    409: "tus: Upload-Offset is not the hub's (ask HEAD), or the upload is complete",
    410: "tus: the upload is gone (refused at its last byte, or its bytes were lost)",
    411: "tus: send Content-Length; chunked bodies are not taken",
    412: "tus: Tus-Resumable is not 1.0.0 (the answer carries Tus-Version)",
    413: "the file is larger than this hub takes",
    415: "the file (or the request body) is of a type the hub does not take",
    422: "the Idempotency-Key was used before for other content",
    423: "tus: another request is writing to this upload; retry",
    429: "too many requests; wait Retry-After seconds",
    460: "tus: the chunk does not match Upload-Checksum; send it again",
    501: "the hub has no EMR configured (code `emr_not_configured`): ask the user",
    502: "the EMR refused the look-up (code `emr_refused`)",
    503: "the EMR does not answer (code `emr_unavailable`); retry after Retry-After seconds",
    507: "the hub is short of disk space (code `insufficient_storage`); retry after Retry-After",
}


# Examples of the codes a view names in `error_codes`: (status, message, field).
ERROR_EXAMPLES: dict[str, tuple[int, str, str | None]] = {
    "context_invalid": (400, "context.patient.id is required", "context"),
    "session_invalid": (
        400,
        "session 5b1d0c1e-8a5e-4d8e-9d9a-2f0c4e1b7a33 is for another patient; "
        "open a new session for this one",
        "context.session",
    ),
    "birth_date_required": (
        400,
        "no EMR is configured to verify the patient: give the birth date as a second "
        "identifier (context.patient.birth_date)",
        "context.patient.birth_date",
    ),
    "file_invalid": (400, "the file is empty", "file"),
    "invalid_request": (400, "This field is required.", "file"),
    "not_authenticated": (401, "Authentication credentials were not provided.", "Authorization"),
    "permission_denied": (
        403,
        "You do not have permission to perform this action.",
        "Authorization",
    ),
    "file_too_large": (
        413,
        "the file is 9000000 bytes; this hub takes at most 8000000",
        "file",
    ),
    "file_type_unsupported": (415, "not a photo, video or document the hub takes", "file"),
    "idempotency_key_reused": (
        422,
        "this Idempotency-Key was already used for a different file; use a new key for a "
        "new capture",
        "file",
    ),
    "throttled": (429, "Request was throttled. Expected available in 12 seconds.", None),
    "insufficient_storage": (507, "the hub is short of disk space; try again later", None),
}


class ErrorSchema(AutoSchema):
    """drf-spectacular's schema, plus the view's error statuses, each an `Error` response,
    with an example of each code the view names in `error_codes`."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = getattr(self.view, "error_codes", {}).get(self.method, ())
        for status in getattr(self.view, "error_statuses", {}).get(self.method, ()):
            examples = [
                OpenApiExample(
                    code,
                    value=error_body(status=status, code=code, message=message, field=field),
                    status_codes=[str(status)],
                    response_only=True,
                )
                for code in codes
                for example_status, message, field in [ERROR_EXAMPLES[code]]
                if example_status == status
            ]
            described = OpenApiResponse(
                ErrorSerializer, description=ERROR_DESCRIPTIONS[status], examples=examples
            )
            responses.setdefault(str(status), self._get_response_for_code(described, str(status)))
        return responses


class ErrorEnvelope:
    """Mixin for the API's views: their errors in the envelope, documented in the schema,
    and no answer cached (`Cache-Control: no-store`).

    `error_statuses` maps an HTTP method to the error statuses it can answer
    with; each is documented as a response of the `Error` component.
    """

    error_statuses: Mapping[str, tuple[int, ...]] = {}
    schema = ErrorSchema()

    def get_exception_handler(self):  # DRF's hook
        return exception_handler

    def finalize_response(self, request, response, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().finalize_response(request, response, *args, **kwargs)
        # Answers of the API hold PHI (contexts, look-ups): no cache along the way keeps one.
        response.setdefault("Cache-Control", "no-store")
        return response
