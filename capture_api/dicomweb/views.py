"""STOW-RS Store Instances (PS3.18 10.5) at /dicom-web/studies and /studies/{study}.

Two forms: PS3.10 parts (`type="application/dicom"`), each read by the hub
(`hub.captures.stow`) and received like a DICOM file posted to
/api/v1/captures; and the IHE WIC form (`type="application/dicom+json"` or
`"application/dicom+xml"`), metadata plus bulk data (`wic.py`). Every part is
streamed to a file (bounded memory) and cut off at its size limit. The answer
is a Store Instances Response (PS3.18 10.5.3) in application/dicom+json: 200
all stored, 202 some refused, 409 none stored.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from capture_api.dicomweb.common import failure_item, part_submit, referenced_item
from capture_api.dicomweb.multipart import (
    MultipartError,
    Part,
    PartTooLarge,
    iter_parts,
    media_type_params,
)
from capture_api.dicomweb.wic import METADATA_TYPES, WicMalformed, wic_part_limit, wic_store
from capture_api.disk_guard import disk_room_require
from capture_api.errors import ApiProblem, ErrorEnvelope
from capture_api.views import refuse_over_limit
from hub.captures.stow import (
    CANNOT_UNDERSTAND,
    OUT_OF_RESOURCES,
    STUDY_INSTANCE_UID_MISMATCH,
    StowRefused,
    stow_instance_read,
)

DICOM_JSON = "application/dicom+json"
SPECIALTIES = {
    "wound",
    "burn",
    "dermatology",
    "dermoscopy",
    "ophthalmology",
    "pocus",
    "endoscopy",
    "general",
}
UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")  # PS3.5 9.1


class DicomJsonRenderer(JSONRenderer):
    media_type = DICOM_JSON
    format = "dicom+json"


@extend_schema(exclude=True)  # DICOMweb is its own protocol (PS3.18); its answers are DICOM JSON
class StoreInstances(ErrorEnvelope, APIView):
    parser_classes: list = []  # the body is read as a stream, part by part
    renderer_classes = [DicomJsonRenderer, JSONRenderer]
    error_statuses = {"POST": (400, 401, 403, 409, 413, 415, 507)}

    def post(self, request: Request, study: str | None = None) -> Response:
        if study is not None and (len(study) > 64 or not UID.match(study)):
            raise ApiProblem(
                f"{study[:80]!r} is not a Study Instance UID",
                status=status.HTTP_400_BAD_REQUEST,
                code="invalid_request",
                field="study",
            )
        media, params = media_type_params(request.META.get("CONTENT_TYPE", ""))
        part_type = params.get("type", "").lower()
        if media != "multipart/related" or part_type not in ("application/dicom", *METADATA_TYPES):
            raise ApiProblem(
                'STOW-RS takes multipart/related; type="application/dicom", '
                '"application/dicom+json" or "application/dicom+xml"',
                status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                code="content_type_unsupported",
                field="Content-Type",
            )
        specialty = request.query_params.get("specialty") or None
        if specialty is not None and specialty not in SPECIALTIES:
            raise ApiProblem(
                f"specialty must be one of {', '.join(sorted(SPECIALTIES))}",
                status=status.HTTP_400_BAD_REQUEST,
                code="invalid_request",
                field="specialty",
            )
        refuse_over_limit(request)
        disk_room_require(incoming_bytes=int(request.META.get("CONTENT_LENGTH") or 0))
        stream = request._request  # Django's request reads the body incrementally
        boundary = params.get("boundary", "")
        referenced: list[dict] = []
        failed: list[dict] = []
        with tempfile.TemporaryDirectory(dir=_spool_root()) as spool:
            try:
                if part_type == "application/dicom":
                    parts = iter_parts(stream, boundary, Path(spool), limit=_instance_limit)
                    try:
                        for part in parts:
                            try:
                                referenced.append(_instance_store(request, part, specialty, study))
                            except StowRefused as refused:
                                failed.append(failure_item(refused))
                            finally:
                                part.path.unlink(missing_ok=True)
                    except PartTooLarge as too_large:
                        # The rest of the body is left unread: the answer says what was stored.
                        failed.append(failure_item(_over_limit(too_large)))
                else:  # metadata and bulk may come in any order: all are spooled first
                    parts = iter_parts(stream, boundary, Path(spool), limit=wic_part_limit)
                    referenced, failed = wic_store(
                        request, list(parts), specialty=specialty, study=study
                    )
            except (MultipartError, WicMalformed) as error:
                raise ApiProblem(
                    str(error), status=status.HTTP_400_BAD_REQUEST, code="malformed_request"
                ) from None
            except PartTooLarge as too_large:  # WIC: nothing is stored before every part is in
                raise ApiProblem(
                    f"{too_large}; nothing was stored",
                    status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                    code="file_too_large",
                ) from None
        if not referenced and not failed:
            raise ApiProblem("the request holds no instance", status=400, code="malformed_request")
        body: dict = {}
        if referenced:
            body["00081199"] = {"vr": "SQ", "Value": referenced}
        if failed:
            body["00081198"] = {"vr": "SQ", "Value": failed}
        answer = status.HTTP_200_OK if not failed else status.HTTP_202_ACCEPTED
        if not referenced:
            answer = status.HTTP_409_CONFLICT
        return Response(body, status=answer, content_type=DICOM_JSON)


def _instance_limit(headers: dict[str, str]) -> int:
    return settings.HUB_MAX_UPLOAD_BYTES


def _over_limit(too_large: PartTooLarge) -> StowRefused:
    """A700 for the part, named by its UIDs when the head that arrived holds them."""
    try:
        head = stow_instance_read(too_large.part.path, specialty=None)
        uids = {"sop_class_uid": head.sop_class_uid, "sop_instance_uid": head.sop_instance_uid}
    except StowRefused as unreadable:
        uids = {
            "sop_class_uid": unreadable.sop_class_uid,
            "sop_instance_uid": unreadable.sop_instance_uid,
        }
    return StowRefused(
        f"the instance is over {too_large.limit} bytes (HUB_MAX_UPLOAD_BYTES); "
        "the parts after it were not read",
        code=OUT_OF_RESOURCES,
        **uids,
    )


def _instance_store(request: Request, part: Part, specialty: str | None, study: str | None) -> dict:
    """One PS3.10 part: a capture of DICOM from a device, its identity kept and reconciled."""
    if part.content_type not in ("application/dicom", ""):
        raise StowRefused(
            f"a part of type {part.content_type} in a PS3.10 request", code=CANNOT_UNDERSTAND
        )
    instance = stow_instance_read(part.path, specialty=specialty)
    if study is not None and instance.study_instance_uid != study:
        raise StowRefused(
            f"the instance is of study {instance.study_instance_uid or '(none)'}, not {study}",
            code=STUDY_INSTANCE_UID_MISMATCH,
            sop_class_uid=instance.sop_class_uid,
            sop_instance_uid=instance.sop_instance_uid,
        )
    capture = part_submit(
        request,
        part,
        name=f"{instance.sop_instance_uid}.dcm",
        context=instance.context,
        sop_class_uid=instance.sop_class_uid,
        sop_instance_uid=instance.sop_instance_uid,
        # A client that never saw the answer stores again: one capture per instance.
        idempotency_key=f"stow:{instance.sop_instance_uid}",
    )
    return referenced_item(
        request,
        capture,
        sop_class_uid=instance.sop_class_uid,
        sop_instance_uid=instance.sop_instance_uid,
    )


def _spool_root() -> Path:
    root = Path(settings.HUB_DATA_DIR) / "stow-spool"
    root.mkdir(parents=True, exist_ok=True)
    return root
