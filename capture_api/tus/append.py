"""PATCH: appending bytes to an upload, and turning the finished file into a capture.

Section names refer to https://tus.io/protocols/resumable-upload (version 1.0.0).
No database transaction is open while the body is read from the network: the
request claims the upload with a conditional update (a lease), writes, and
moves the offset with another conditional update.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from capture_api.errors import refusal_code
from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tus.protocol import CHECKSUM_MISMATCH, Checksum, TusRefusal
from capture_api.tus.service import lease_free, next_expiry, require_receiving, upload_for
from capture_api.tus.storage import (
    PartialMissing,
    partial_head,
    partial_path,
    partial_remove,
    partial_sha256,
    partial_truncate,
    partial_write,
    running_keep,
)
from hub.captures.models import Capture
from hub.captures.receive import CaptureRefused, Upload
from hub.pipeline.start import capture_submit

LEASE_SECONDS = 120
# Renewed well before it runs out, so a piece is never written on a lapsed lease.
RENEW_AFTER_SECONDS = 20
HEAD_BYTES = 4096


class LeaseLost(Exception):
    """The request stalled past its lease and another one took the upload."""


class Lease:
    """A PATCH's hold on one upload, kept alive while the body streams in."""

    def __init__(self, upload_id: str, token: str) -> None:
        self.upload_id = upload_id
        self.token = token
        self._renewed = time.monotonic()

    def keep(self) -> None:
        if time.monotonic() - self._renewed < RENEW_AFTER_SECONDS:
            return
        renewed = ResumableUpload.objects.filter(pk=self.upload_id, lease_token=self.token).update(
            lease_until=timezone.now() + timedelta(seconds=LEASE_SECONDS)
        )
        if not renewed:
            raise LeaseLost(self.upload_id)
        self._renewed = time.monotonic()

    def release(self, upload: ResumableUpload, *, received: int, **changes: object) -> bool:
        """Lets the upload go, recording what this request changed in the database
        and on `upload`; False if it was lost."""
        released = bool(
            ResumableUpload.objects.filter(pk=self.upload_id, lease_token=self.token).update(
                lease_token="",
                lease_until=None,
                received_bytes=F("received_bytes") + received,
                **changes,
            )
        )
        if released:
            # The row as the update left it, without reading it back (a round
            # trip per PATCH): while the lease was held nothing else wrote it.
            for name, value in changes.items():
                setattr(upload, name, value)
            upload.received_bytes += received
            upload.lease_token, upload.lease_until = "", None
        return released


def upload_append(
    *,
    owner: AbstractBaseUser,
    upload_id: str,
    offset: int,
    body: BinaryIO | None,
    body_length: int,
    checksum: Checksum | None,
    max_bytes: int,
) -> ResumableUpload:
    """Requests.PATCH: stores the body at `offset` and returns the upload as it now is.

    409 when `offset` is not the upload's; 460 when the body does not match
    Upload-Checksum (the chunk is discarded, the offset stays); 423 while
    another request writes. With the last byte the hub makes the capture; a
    refusal answers with its status and reason and the bytes are removed.
    """
    upload = upload_for(owner=owner, upload_id=upload_id)
    require_receiving(upload)
    if offset != upload.offset:
        raise _offset_conflict(upload)
    if offset + body_length > upload.length:
        raise TusRefusal(
            f"{body_length} bytes at offset {offset} run past Upload-Length {upload.length}",
            code="upload_length_exceeded",
            status=413,
            field="Content-Length",
        )
    lease = _claim(upload, offset=offset)
    size = 0
    try:
        # The sha256 of the whole file grows as the chunks arrive, its state saved
        # for whichever process takes the next chunk (storage.py).
        running = partial_sha256(upload.id, offset=offset, each=lease.keep)
        written = partial_write(
            upload.id,
            offset=offset,
            source=body,
            limit=body_length,
            hasher=checksum.hasher() if checksum else None,
            before_write=lease.keep,
            running=running,
        )
        size = written.size
        if checksum and (not written.whole or written.digest != checksum.digest):
            partial_truncate(upload.id, offset=offset)
            raise TusRefusal(
                f"the chunk does not match its {checksum.algorithm} Upload-Checksum; "
                "it was discarded",
                code="checksum_mismatch",
                status=CHECKSUM_MISMATCH,
                field="Upload-Checksum",
            )
        if offset + size == upload.length:
            _finish(
                upload, lease=lease, received=size, max_bytes=max_bytes, sha256=running.hexdigest()
            )
        elif not lease.release(
            upload, received=size, offset=offset + size, expires_at=next_expiry()
        ):
            raise LeaseLost(upload.id)
        else:
            running_keep(upload.id, offset=offset + size, digest=running)
    except LeaseLost:
        raise TusRefusal(
            "another request took this upload over; ask HEAD for the offset",
            code="upload_busy",
            status=423,
        ) from None
    except PartialMissing:
        if offset + body_length == upload.length and _completed_before(upload, lease=lease):
            partial_remove(upload.id)  # the saved sha256 state, the partial being gone
            return upload
        lease.release(upload, received=size)
        raise TusRefusal(
            "the stored part of this upload is lost; start again", code="upload_lost", status=410
        ) from None
    except BaseException:
        lease.release(upload, received=size)
        raise
    return upload


def _claim(upload: ResumableUpload, *, offset: int) -> Lease:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        ResumableUpload.objects.filter(pk=upload.pk, status=UploadStatus.RECEIVING, offset=offset)
        .filter(lease_free(now))
        .update(lease_token=token, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    if claimed:
        return Lease(upload.pk, token)
    current = ResumableUpload.objects.filter(pk=upload.pk).first()
    if current is None:
        raise TusRefusal("no such upload", code="upload_not_found", status=404)
    require_receiving(current)
    if current.offset != offset:
        raise _offset_conflict(current)
    raise TusRefusal(
        "another request is writing to this upload; try again", code="upload_busy", status=423
    )


def _finish(
    upload: ResumableUpload, *, lease: Lease, received: int, max_bytes: int, sha256: str
) -> None:
    """The last byte is in: the hub moves the file into its originals (rename, no
    copy: `sha256` was computed as the chunks arrived) and records it.

    The offset moves to the end only once the capture exists, so a crash here
    leaves the client re-sending the last chunk, and the idempotency key
    `tus:<id>` hands back the same capture.
    """
    try:
        received_capture = capture_submit(
            user=upload.owner,
            upload=Upload(
                name=upload.filename,
                size=upload.length,
                head=partial_head(upload.id, HEAD_BYTES),
                stored=partial_path(upload.id),
                sha256=sha256,
            ),
            context_data=upload.context,
            idempotency_key=f"tus:{upload.id}",
            max_bytes=max_bytes,
        )
    except CaptureRefused as refused:
        lease.release(
            upload,
            received=received,
            status=UploadStatus.REFUSED,
            reason=refused.reason,
            offset=upload.length,
            expires_at=next_expiry(),
        )
        partial_remove(upload.id)
        raise TusRefusal(
            refused.reason,
            code=refused.code or refusal_code(status=refused.status, field=refused.field),
            status=refused.status,
            field=refused.field,
        ) from None
    if not lease.release(
        upload,
        received=received,
        status=UploadStatus.COMPLETE,
        capture=received_capture.capture,
        offset=upload.length,
    ):
        raise LeaseLost(upload.id)
    partial_remove(upload.id)


def _completed_before(upload: ResumableUpload, *, lease: Lease) -> bool:
    """The last chunk again after a crash between the capture's record (the file
    moved into the originals) and the upload's: that capture completes it."""
    capture = Capture.objects.filter(
        created_by=upload.owner, idempotency_key=f"tus:{upload.id}"
    ).first()
    if capture is None:
        return False
    return lease.release(
        upload, received=0, status=UploadStatus.COMPLETE, capture=capture, offset=upload.length
    )


def _offset_conflict(upload: ResumableUpload) -> TusRefusal:
    return TusRefusal(
        f"Upload-Offset must be {upload.offset}, the bytes stored so far",
        code="upload_offset_mismatch",
        status=409,
        field="Upload-Offset",
        headers={"Upload-Offset": str(upload.offset)},
    )
