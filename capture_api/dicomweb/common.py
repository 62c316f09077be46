"""What both STOW-RS forms share: receiving one part as a capture, the response items."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from rest_framework.request import Request

from capture_api.auditing import audit_request, capture_create_note
from capture_api.dicomweb.multipart import Part
from hub.captures.models import Capture
from hub.captures.receive import CaptureRefused, Upload
from hub.captures.stow import (
    CANNOT_UNDERSTAND,
    OUT_OF_RESOURCES,
    PROCESSING_FAILURE,
    StowRefused,
)
from hub.pipeline.start import capture_submit

SNIFF_BYTES = 4096
COERCED = 0xB000  # Warning Reason: Coercion of Data Elements (PS3.18 10.5.3.2)


def ui(value: str) -> dict:
    return {"vr": "UI", "Value": [value]} if value else {"vr": "UI"}


def failure_item(refused: StowRefused) -> dict:
    return {
        "00081150": ui(refused.sop_class_uid),
        "00081155": ui(refused.sop_instance_uid),
        "00081197": {"vr": "US", "Value": [refused.code]},
    }


def referenced_item(
    request: Request, capture: Capture, *, sop_class_uid: str, sop_instance_uid: str
) -> dict:
    item = {
        "00081150": ui(sop_class_uid),
        "00081155": ui(sop_instance_uid),
        "00081190": {
            "vr": "UR",
            "Value": [request.build_absolute_uri(f"/api/v1/captures/{capture.id}")],
        },
    }
    return item


def part_submit(
    request: Request,
    part: Part,
    *,
    name: str,
    context: dict,
    sop_class_uid: str,
    sop_instance_uid: str,
) -> Capture:
    """The part received as a capture (`capture_submit`); StowRefused as the hub refuses it."""
    with part.path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    try:
        received = capture_submit(
            user=request.user,
            upload=Upload(name=name, size=part.size, head=head, chunks=_chunks(part.path)),
            context_data=context,
            max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
        )
    except CaptureRefused as refused:
        code = {400: CANNOT_UNDERSTAND, 415: CANNOT_UNDERSTAND, 413: OUT_OF_RESOURCES}.get(
            refused.status, PROCESSING_FAILURE
        )
        raise StowRefused(
            refused.reason,
            code=code,
            sop_class_uid=sop_class_uid,
            sop_instance_uid=sop_instance_uid,
        ) from None
    audit_request(
        request,
        "capture.create",
        capture_id=received.capture.id,
        note=capture_create_note(received.capture, "by STOW-RS"),
    )
    return received.capture


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            yield chunk
