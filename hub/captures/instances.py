"""Recording the DICOM files the hub wrote for a capture: one row per SOP Instance UID."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from encapsulate import WrittenInstance
from hub.captures.models import Capture, DicomInstance
from hub.captures.storage import file_sha256

_REWRITTEN = [
    "capture",
    "sop_class_uid",
    "transfer_syntax_uid",
    "path",
    "size",
    "sha256",
    "derived",
]


def instances_record(capture: Capture, written: Iterable[WrittenInstance]) -> None:
    """Records ``written`` as the capture's, replacing the row of a UID written
    before (a step run again after a crash rewrites the same instances).

    One INSERT ... ON CONFLICT DO UPDATE for them all, where update_or_create
    took a SELECT and an INSERT, each in a savepoint, per instance.
    """
    rows = [
        DicomInstance(
            capture=capture,
            sop_instance_uid=instance.sop_instance_uid,
            sop_class_uid=instance.sop_class_uid,
            transfer_syntax_uid=instance.transfer_syntax_uid,
            path=str(instance.path.relative_to(settings.HUB_DATA_DIR)),
            size=instance.path.stat().st_size,
            sha256=instance.sha256 or file_sha256(instance.path),
            derived=instance.derived,
        )
        for instance in written
    ]
    if rows:
        DicomInstance.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["sop_instance_uid"],
            update_fields=_REWRITTEN,
        )
