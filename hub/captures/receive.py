"""Taking a capture in: validate, store the original durably, record it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from encapsulate import (
    CaptureContext,
    ContextError,
    InstanceIdentity,
    MediaError,
    context_to_json,
    identify,
    parse_context,
)
from hub.captures.models import Capture, CaptureSession
from hub.captures.sessions import SessionRefused, identity_unverified, session_join
from hub.captures.storage import adopt_original, data_path, store_original


class CaptureRefused(Exception):
    """The upload cannot become a capture; nothing was kept.

    `field` names the request part at fault (`file` or `context`) and `status`
    the HTTP status that fits (400 malformed, 413 too large, 415 not a media
    type the hub takes, 422 idempotency key reused for other content); `code`,
    when given, is the API's code for it (a session's refusal, a missing birth date).
    """

    def __init__(
        self, reason: str, *, field: str, status: int = 400, code: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Upload:
    """What the API hands over: the file's first bytes, all its chunks, its size.

    An upload already written to disk whole (tus) gives `stored`, the file
    below HUB_DATA_DIR, and its `sha256` instead of the chunks: the file is
    moved into the originals when the capture is recorded, never read again,
    and left where it is when the upload is refused or replayed.
    """

    name: str
    size: int
    head: bytes
    chunks: Iterable[bytes] = ()
    stored: Path | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.stored is not None and not self.sha256:
            raise ValueError("a stored upload comes with its sha256")


@dataclass(frozen=True)
class Received:
    capture: Capture
    created: bool


@dataclass(frozen=True)
class Admitted:
    """A context the hub takes: parsed, with its session and whether its identity is unverified."""

    context: CaptureContext
    session: CaptureSession | None
    identity_unverified: bool


def capture_context_check(*, user: AbstractBaseUser, context_data: object) -> None:
    """Raises CaptureRefused where capture_receive would refuse the context."""
    _admit(user=user, context_data=context_data)


def _admit(*, user: AbstractBaseUser, context_data: object) -> Admitted:
    """`session` is the API's key, not the DICOM library's: taken out before parsing."""
    session_id = None
    if isinstance(context_data, dict) and "session" in context_data:
        context_data = dict(context_data)
        session_id = context_data.pop("session")
    try:
        context = parse_context(context_data)
    except ContextError as error:
        raise CaptureRefused(error.reason, field="context") from None
    try:
        unverified = identity_unverified(context, user=user)
        session = (
            None
            if session_id is None
            else session_join(user=user, session_id=session_id, context=context)
        )
    except SessionRefused as refused:
        raise CaptureRefused(refused.reason, field=refused.field, code=refused.code) from None
    return Admitted(context=context, session=session, identity_unverified=unverified)


def received_context(context: CaptureContext, session: CaptureSession | None) -> dict:
    """The context as the client sent it (normalised), with its session: kept forever."""
    sent = context_to_json(context)
    if session is not None:
        sent["session"] = str(session.id)
    return sent


def capture_receive(
    *,
    user: AbstractBaseUser,
    upload: Upload,
    context_data: object,
    idempotency_key: str | None = None,
    max_bytes: int,
) -> Received:
    """Stores the original (fsync) and records the capture with its UIDs.

    Nothing is enqueued here: `hub.pipeline.start.capture_submit` starts the
    pipeline once the row is committed. With an idempotency key
    already used by this user, the first capture is returned and nothing new
    is stored, provided the content is the same.
    """
    if idempotency_key:
        earlier = Capture.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, upload.sha256 or _sha256(upload.chunks))

    admitted = _admit(user=user, context_data=context_data)
    context = admitted.context
    if upload.size == 0:
        raise CaptureRefused("the file is empty", field="file")
    if upload.size > max_bytes:
        raise CaptureRefused(
            f"the file is {upload.size} bytes; this hub takes at most {max_bytes}",
            field="file",
            status=413,
        )
    try:
        media_type = identify(upload.head)
    except MediaError as error:
        raise CaptureRefused(error.reason, field="file", status=415) from None

    suffix = PurePath(upload.name).suffix.lower()[:10]
    if upload.stored is not None:
        stored = adopt_original(
            upload.stored, sha256=upload.sha256, size=upload.size, suffix=suffix
        )
    else:
        stored = store_original(upload.chunks, suffix=suffix)
    order_study_uid = context.order.study_instance_uid if context.order else None
    identity = InstanceIdentity.mint(study_instance_uid=order_study_uid)
    try:
        with transaction.atomic():
            capture = Capture.objects.create(
                created_by=user,
                idempotency_key=idempotency_key or None,
                context=context_to_json(context),
                received_context=received_context(context, admitted.session),
                session=admitted.session,
                identity_unverified=admitted.identity_unverified,
                original_name=PurePath(upload.name).name[:255],
                original_path=stored.relative_path,
                original_sha256=stored.sha256,
                original_size=stored.size,
                mime_type=media_type.value,
                study_instance_uid=identity.study_instance_uid,
                series_instance_uid=identity.series_instance_uid,
                sop_instance_uid=identity.sop_instance_uid,
            )
    except IntegrityError:
        # The same key raced in from a parallel retry: the winner's capture stands.
        data_path(stored.relative_path).unlink(missing_ok=True)
        earlier = Capture.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if earlier is None:
            raise
        return _replay(earlier, stored.sha256)
    return Received(capture=capture, created=True)


def _sha256(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _replay(earlier: Capture, sha256: str) -> Received:
    """The first capture for a retried upload, if the content is the same."""
    if earlier.original_sha256 != sha256:
        raise CaptureRefused(
            "this Idempotency-Key was already used for a different file; "
            "use a new key for a new capture",
            field="file",
            status=422,
        )
    return Received(capture=earlier, created=False)
