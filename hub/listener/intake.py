"""A C-STORE'd instance becomes a capture, as one stored by STOW-RS does.

The instance is read by `hub.captures.stow` and received by
`hub.pipeline.start.capture_submit`, like a PS3.10 part of a STOW-RS request:
DICOM from a device, its identity kept and reconciled. The answer is the
C-STORE status (PS3.4 B.2.3): Success only once the file is fsynced and the
capture's row committed; on a failure nothing is kept.

Each caller stores as a device user of its own (`dimse-AET@host`), so its
captures are its own in the API, the admin and the audit trail. The SOP
Instance UID is the idempotency key: a device that sends an instance again
(it never saw the answer) gets Success and no second capture.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from hub.accounts.devices import device_create
from hub.accounts.models import Device
from hub.audit.models import Outcome
from hub.audit.services import audit_record
from hub.captures.receive import CaptureRefused, Upload
from hub.captures.storage import file_sha256
from hub.captures.stow import (
    OUT_OF_RESOURCES,
    StowRefused,
    refusal_code,
    stow_instance_read,
)
from hub.listener.callers import Caller
from hub.pipeline.start import capture_submit

log = logging.getLogger(__name__)

SUCCESS = 0x0000
SNIFF_BYTES = 4096


def caller_user(caller: Caller) -> AbstractBaseUser:
    """The device user a caller stores as, made on its first instance."""
    name = f"dimse-{caller}"
    device = Device.objects.filter(name=name).select_related("user").first()
    if device is None:
        device = device_create(name=name, created_by=None)
    return device.user


def instance_store(*, path: Path, caller: Caller, address: str) -> int:
    """The C-STORE status for the PS3.10 file at `path` (pynetdicom's spool file).

    The file is moved into the originals when the capture is recorded; on a
    refusal it is left for pynetdicom to remove.
    """
    user = caller_user(caller)
    entity = f"dimse:{caller}"
    try:
        instance = stow_instance_read(path, specialty=None)
    except StowRefused as refused:
        return _refused(user, entity, address, refused.code, refused.reason)
    size = path.stat().st_size
    if shutil.disk_usage(settings.HUB_DATA_DIR).free < settings.HUB_MIN_FREE_BYTES:
        reason = "the hub is short of disk space"
        return _refused(user, entity, address, OUT_OF_RESOURCES, reason)
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    try:
        received = capture_submit(
            user=user,
            upload=Upload(
                name=f"{instance.sop_instance_uid}.dcm",
                size=size,
                head=head,
                stored=path,
                sha256=file_sha256(path),
            ),
            context_data=instance.context,
            idempotency_key=f"c-store:{instance.sop_instance_uid}",
            max_bytes=settings.HUB_MAX_UPLOAD_BYTES,
        )
    except CaptureRefused as refused:
        code = refusal_code(refused.status)
        return _refused(user, entity, address, code, refused.reason)
    except OSError as error:
        # The disk filled or failed under the move: a later try may find room.
        log.exception("C-STORE from %s could not be stored", caller)
        return _refused(user, entity, address, OUT_OF_RESOURCES, f"cannot store: {error}")
    if received.created:
        audit_record(
            action="capture.create",
            capture_id=received.capture.id,
            actor=user,
            entity=entity,
            address=address,
            note="by C-STORE",
        )
    log.info(
        "C-STORE from %s: %s is capture %s%s",
        caller,
        instance.sop_instance_uid,
        received.capture.id,
        "" if received.created else " (sent again)",
    )
    return SUCCESS


def _refused(user: AbstractBaseUser, entity: str, address: str, code: int, reason: str) -> int:
    log.warning("C-STORE from %s refused with 0x%04X: %s", entity, code, reason)
    audit_record(
        action="capture.create",
        actor=user,
        entity=entity,
        address=address,
        outcome=Outcome.REFUSED,
        note=f"C-STORE refused (0x{code:04X}): {reason}"[:2000],
    )
    return code
