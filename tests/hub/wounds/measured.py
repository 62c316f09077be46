"""Wound photos taken through the pipeline's steps in-process, up to measured."""

from __future__ import annotations

from typing import Any

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture
from hub.captures.receive import Upload, capture_receive
from hub.matching.services import capture_match
from hub.pipeline.measure import capture_measure
from hub.pipeline.steps import capture_encapsulate, capture_inspect


def measured(photo: bytes, **context: Any) -> Capture:
    """A wound photo of patient MRN-7 (unless ``context`` says otherwise), measured."""
    user = user_create_or_update(username="measurer", role=Role.CAPTURER)
    capture = capture_receive(
        user=user,
        upload=Upload(name="wound.jpg", size=len(photo), head=photo[:4096], chunks=[photo]),
        context_data={"patient": {"id": "MRN-7"}, "specialty": "wound", **context},
        max_bytes=10**9,
    ).capture
    assert capture_inspect(capture_id=capture.id)
    assert capture_match(capture_id=capture.id).moved
    assert capture_encapsulate(capture_id=capture.id)
    assert capture_measure(capture_id=capture.id)
    capture.refresh_from_db()
    return capture
