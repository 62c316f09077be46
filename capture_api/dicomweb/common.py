"""What both STOW-RS forms share: receiving one part as a capture, the response items."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request

from capture_api.auditing import audit_request, capture_create_note
from capture_api.dicomweb.multipart import Part
from hub.captures.models import Capture
from hub.captures.receive import CaptureRefused, Upload
from hub.captures.stow import StowRefused, refusal_code
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
    idempotency_key: str | None = None,
) -> Capture:
    """The part received as a capture (`capture_submit`); StowRefused as the hub refuses it.

    The spooled file (below HUB_DATA_DIR) becomes the original itself: moved, not
    copied, so a 2 GiB video is written to disk once. With an idempotency key
    already used by this user for the same content, the first capture answers.
    """
    with part.path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    try:
        received = capture_submit(
            user=request.user,
            upload=Upload(
                name=name, size=part.size, head=head, stored=part.path, sha256=part.sha256
            ),
            context_data=context,
            idempotency_key=idempotency_key,
            max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
        )
    except CaptureRefused as refused:
        code = refusal_code(refused.status)
        raise StowRefused(
            refused.reason,
            code=code,
            sop_class_uid=sop_class_uid,
            sop_instance_uid=sop_instance_uid,
        ) from None
    if received.created:
        audit_request(
            request,
            "capture.create",
            capture_id=received.capture.id,
            note=capture_create_note(received.capture, "by STOW-RS"),
        )
    return received.capture
