"""The tus 1.0.0 endpoints in the OpenAPI schema: their headers, bodies and answers.

tus speaks in headers; OpenAPI describes them as header parameters and
response headers. drf-spectacular leaves HEAD and OPTIONS out of every
schema, so `tus_head_and_options` (a postprocessing hook) adds the two tus
needs. Section names refer to https://tus.io/protocols/resumable-upload.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from capture_api.tus import protocol

HEADER = OpenApiParameter.HEADER


def _header(name: str, description: str, *, required: bool = False, kind: Any = str) -> Any:
    return OpenApiParameter(name, kind, HEADER, required=required, description=description)


TUS_RESUMABLE = _header(
    "Tus-Resumable",
    f"the protocol version: `{protocol.TUS_VERSION}` (412 otherwise)",
    required=True,
)
METHOD_OVERRIDE = _header(
    "X-HTTP-Method-Override", "for clients behind proxies that pass only GET and POST"
)
UPLOAD_LENGTH = _header(
    "Upload-Length", "the whole file's size in bytes", required=True, kind=OpenApiTypes.INT
)
UPLOAD_METADATA = _header(
    "Upload-Metadata",
    "comma-separated `key base64(value)` pairs: `context` (required, the capture context as "
    "JSON, docs/capture-context.md; refused before any byte is sent) and `filename`",
    required=True,
)
UPLOAD_OFFSET = _header(
    "Upload-Offset", "the offset this chunk starts at: the hub's, as HEAD answers it",
    required=True, kind=OpenApiTypes.INT,
)  # fmt: skip
UPLOAD_CHECKSUM = _header(
    "Upload-Checksum",
    "`algorithm base64(digest)` of this chunk (Checksum extension; 460 on a mismatch); "
    "algorithms: " + ", ".join(protocol.ALGORITHMS),
)


OFFSET_BODY = {"application/offset+octet-stream": OpenApiTypes.BINARY}

creation = extend_schema(
    summary="tus Creation: open a resumable upload",
    description="Creation and creation-with-upload (a first chunk in the body, with "
    "`Content-Type: application/offset+octet-stream`). The context in `Upload-Metadata` "
    "is checked as `POST /api/v1/captures` checks it. docs/api-errors.md lists the codes.",
    parameters=[TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_CHECKSUM, METHOD_OVERRIDE],
    request=OFFSET_BODY,
    responses={201: OpenApiResponse(description="created; PATCH the bytes to `Location`")},
)
append = extend_schema(
    summary="tus PATCH: send the bytes from Upload-Offset on",
    description="The last byte makes the capture (its id: `GET /api/v1/captures?upload=<id>`).",
    parameters=[TUS_RESUMABLE, UPLOAD_OFFSET, UPLOAD_CHECKSUM, METHOD_OVERRIDE],
    request=OFFSET_BODY,
    responses={204: OpenApiResponse(description="stored; `Upload-Offset` is the new offset")},
)
termination = extend_schema(
    summary="tus Termination: discard an upload and its bytes",
    parameters=[TUS_RESUMABLE, METHOD_OVERRIDE],
    responses={204: OpenApiResponse(description="gone")},
)

RESPONSE_HEADERS = {
    ("post", "201"): {
        "Location": "the upload's absolute URL",
        "Upload-Offset": "bytes the hub holds (0, or the first chunk's length)",
        "Upload-Expires": "when an unfinished upload is discarded (RFC 9110 HTTP-date)",
        "Tus-Resumable": protocol.TUS_VERSION,
    },
    ("patch", "204"): {
        "Upload-Offset": "bytes the hub holds now",
        "Upload-Expires": "when an unfinished upload is discarded",
        "Tus-Resumable": protocol.TUS_VERSION,
    },
    ("delete", "204"): {"Tus-Resumable": protocol.TUS_VERSION},
}


def _header_objects(described: dict[str, str]) -> dict[str, Any]:
    return {
        name: {"schema": {"type": "string"}, "description": text}
        for name, text in described.items()
    }


def _tus_header_parameter(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "schema": {"type": "string"},
        "required": required,
        "description": description,
    }


def tus_head_and_options(result: dict[str, Any], generator: Any, request: Any, public: bool):
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS: tus's HEAD and OPTIONS, and the
    response headers of its other answers."""
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/uploads"):
            continue
        for method, operation in item.items():
            for status, answer in operation.get("responses", {}).items():
                if (method, status) in RESPONSE_HEADERS:
                    answer["headers"] = _header_objects(RESPONSE_HEADERS[method, status])
        if "{upload_id}" in path:
            item["head"] = {
                "operationId": "uploads_offset",
                "summary": "tus HEAD: the offset to resume from",
                "tags": ["api"],
                "parameters": [
                    {
                        "in": "path",
                        "name": "upload_id",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    _tus_header_parameter("Tus-Resumable", protocol.TUS_VERSION, required=True),
                ],
                "security": [{"knoxApiToken": []}, {"cookieAuth": []}],
                "responses": {
                    "200": {
                        "description": "the upload's state; never cached",
                        "headers": _header_objects(
                            {
                                "Upload-Offset": "bytes the hub holds",
                                "Upload-Length": "the whole file's size",
                                "Upload-Metadata": "as sent at creation",
                                "Upload-Expires": "when an unfinished upload is discarded",
                                "Cache-Control": "no-store",
                                "Tus-Resumable": protocol.TUS_VERSION,
                            }
                        ),
                    },
                    # HEAD answers have no body: the status is all there is.
                    "401": {"description": "no valid token"},
                    "404": {"description": "no such upload (expired, terminated, someone else's)"},
                    "410": {"description": "the hub refused the file at its last byte"},
                    "412": {"description": "Tus-Resumable is not 1.0.0"},
                },
            }
        else:
            item["options"] = {
                "operationId": "uploads_discovery",
                "summary": "tus OPTIONS: the server's version, extensions and limits",
                "tags": ["api"],
                "security": [{}],
                "responses": {
                    "204": {
                        "description": "what this hub speaks",
                        "headers": _header_objects(
                            {
                                "Tus-Version": protocol.TUS_VERSION,
                                "Tus-Extension": ",".join(protocol.TUS_EXTENSIONS),
                                "Tus-Max-Size": "HUB_MAX_UPLOAD_BYTES",
                                "Tus-Checksum-Algorithm": ",".join(protocol.ALGORITHMS),
                            }
                        ),
                    }
                },
            }
    return result
