"""The way into the pipeline for the API: receive a capture, then start its steps."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from hub.captures.receive import Received, Upload, capture_receive
from hub.pipeline.tasks import inspect_capture, send


def capture_submit(
    *,
    user: AbstractBaseUser,
    upload: Upload,
    context_data: object,
    idempotency_key: str | None = None,
    max_bytes: int,
) -> Received:
    """`capture_receive`, then the inspect step once the capture's row is committed.

    Raises `CaptureRefused` as `capture_receive` does. A replayed upload (same
    Idempotency-Key) starts nothing: its capture is already on its way. Should
    the process die between the commit and the enqueue, the resume sweep
    starts the capture, which waits `received`.
    """
    received = capture_receive(
        user=user,
        upload=upload,
        context_data=context_data,
        idempotency_key=idempotency_key,
        max_bytes=max_bytes,
    )
    if received.created:
        capture_id = str(received.capture.id)
        transaction.on_commit(lambda: send(inspect_capture, capture_id))
    return received
