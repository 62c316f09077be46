"""Use cases of tus uploads other than PATCH: create, look up, terminate, expire.

Section names refer to https://tus.io/protocols/resumable-upload (version 1.0.0).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from capture_api.context_input import context_decode, filename_fault
from capture_api.models import ResumableUpload, UploadStatus
from capture_api.tus.protocol import TusRefusal, parse_metadata
from capture_api.tus.storage import (
    partial_create,
    partial_remove,
    partials_older_than,
    running_strays_remove,
)
from hub.captures.receive import CaptureRefused, capture_context_check

DEFAULT_EXPIRY_SECONDS = 24 * 3600


def expiry_seconds() -> int:
    """How long an upload may sit untouched before expire_uploads removes it."""
    return int(getattr(settings, "HUB_UPLOAD_EXPIRY_SECONDS", DEFAULT_EXPIRY_SECONDS))


def next_expiry() -> datetime:
    return timezone.now() + timedelta(seconds=expiry_seconds())


def lease_free(now: datetime) -> Q:
    """No request holds the upload, or the one that did has died (its lease ran out)."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def upload_create(
    *, owner: AbstractBaseUser, length: int, metadata: str | None, max_bytes: int
) -> ResumableUpload:
    """Creation: records the upload and its empty partial file.

    `metadata` is the Upload-Metadata header; its `context` must pass the same
    rules as the capture API's, so a bad context costs the client no bytes.
    Nothing is created when anything is refused.
    """
    pairs = parse_metadata(metadata)
    filename = _text(pairs.get("filename", pairs.get("name", b"")), key="filename")
    if fault := filename_fault(filename):
        raise TusRefusal(f"the file name holds {fault}", code="header_invalid", field="filename")
    if "context" not in pairs:
        raise TusRefusal(
            "context is required (Upload-Metadata key 'context')",
            code="context_invalid",
            field="context",
        )
    context_data = context_decode(pairs["context"])
    try:
        # The rules capture_receive applies, checked before the client sends a byte.
        capture_context_check(user=owner, context_data=context_data)
    except CaptureRefused as refused:
        raise TusRefusal(
            refused.reason, code=refused.code or "context_invalid", field=refused.field
        ) from None
    if length == 0:
        raise TusRefusal("the file is empty", code="file_invalid", field="file")
    if length > max_bytes:
        raise TusRefusal(
            f"the file is {length} bytes; this hub takes at most {max_bytes}",
            code="file_too_large",
            status=413,
            field="Upload-Length",
        )
    upload = ResumableUpload.objects.create(
        owner=owner,
        length=length,
        metadata=(metadata or "").strip(),
        filename=filename[:255],
        context=context_data,
        expires_at=next_expiry(),
    )
    try:
        partial_create(upload.id)
    except BaseException:
        upload.delete()
        raise
    return upload


def upload_for(*, owner: AbstractBaseUser, upload_id: str) -> ResumableUpload:
    """The caller's upload; someone else's is as absent as one that never was (404)."""
    upload = ResumableUpload.objects.filter(pk=upload_id, owner=owner).first()
    if upload is None:
        raise TusRefusal("no such upload", code="upload_not_found", status=404)
    return upload


def require_receiving(upload: ResumableUpload) -> None:
    """Bytes go only to an upload still receiving: a refused one is gone, a finished one full."""
    if upload.status == UploadStatus.REFUSED:
        raise TusRefusal(
            upload.reason or "the hub refused this file",
            code="upload_refused",
            status=410,
            field="file",
        )
    if upload.status == UploadStatus.COMPLETE:
        raise TusRefusal(
            "the upload is complete",
            # As for any offset conflict, HEAD tells the client where it stands: at the end.
            code="upload_offset_mismatch",
            status=409,
            field="Upload-Offset",
            headers={"Upload-Offset": str(upload.offset)},
        )


def upload_terminate(*, owner: AbstractBaseUser, upload_id: str) -> None:
    """Termination: removes an unfinished upload and its bytes; a finished one stays.

    The conditional delete does not touch an upload a PATCH is writing (423).
    """
    deleted, _ = (
        ResumableUpload.objects.filter(pk=upload_id, owner=owner)
        .exclude(status=UploadStatus.COMPLETE)
        .filter(lease_free(timezone.now()))
        .delete()
    )
    if deleted:
        partial_remove(upload_id)
        return
    upload = upload_for(owner=owner, upload_id=upload_id)
    if upload.status == UploadStatus.COMPLETE:
        raise TusRefusal(
            "the upload is complete and became a capture; it cannot be terminated",
            code="upload_complete",
            status=409,
        )
    raise TusRefusal(
        "another request is writing to this upload; try again", code="upload_busy", status=423
    )


def uploads_expire(*, now: datetime | None = None) -> int:
    """Expiration: removes unfinished (and refused) uploads past Upload-Expires.

    Finished uploads stay: they tie a capture to its upload id. Partial files
    whose record is gone (a crash between the two removals) are swept too, and
    saved sha256 states whose partial file is gone.
    Returns how many uploads were removed.
    """
    now = now or timezone.now()
    expired = Q(expires_at__lt=now) & ~Q(status=UploadStatus.COMPLETE) & lease_free(now)
    removed = 0
    for upload_id in list(ResumableUpload.objects.filter(expired).values_list("pk", flat=True)):
        # Conditional again: a PATCH may have claimed it since the query above.
        deleted, _ = ResumableUpload.objects.filter(expired, pk=upload_id).delete()
        if deleted:
            partial_remove(upload_id)
            removed += 1
    for upload_id in partials_older_than(expiry_seconds()):
        if not ResumableUpload.objects.filter(pk=upload_id).exists():
            partial_remove(upload_id)
    running_strays_remove(expiry_seconds())
    return removed


def _text(value: bytes, *, key: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise TusRefusal(
            f"Upload-Metadata {key!r} is not UTF-8", code="header_invalid", field=key
        ) from None
