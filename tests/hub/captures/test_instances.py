"""The capture's DICOM files on record: one row per SOP Instance UID, rewritten in place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from encapsulate import WrittenInstance
from hub.captures.instances import instances_record
from hub.captures.models import DicomInstance
from hub.captures.storage import instance_directory
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db


def _written(capture_id, uid: str, body: bytes, *, sha256: str | None) -> WrittenInstance:
    path = instance_directory(capture_id) / f"{uid}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return WrittenInstance(
        path=path,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
        sop_instance_uid=uid,
        series_instance_uid="1.2.3.1",
        study_instance_uid="1.2.3",
        transfer_syntax_uid="1.2.840.10008.1.2.4.50",
        derived=False,
        sha256=sha256,
    )


def test_instances_are_recorded_in_one_statement(tmp_path: Path, private_data_dir: Path) -> None:
    capture = received_capture(tmp_path)
    first = _written(capture.id, "1.2.3.4", b"photo", sha256=hashlib.sha256(b"photo").hexdigest())
    # Without the digest taken while writing, the file is read for it.
    second = _written(capture.id, "1.2.3.5", b"report", sha256=None)

    with CaptureQueriesContext(connection) as queries:
        instances_record(capture, [first, second])

    assert len(queries) == 1
    rows = {row.sop_instance_uid: row for row in DicomInstance.objects.filter(capture=capture)}
    assert rows["1.2.3.4"].sha256 == hashlib.sha256(b"photo").hexdigest()
    assert rows["1.2.3.5"].sha256 == hashlib.sha256(b"report").hexdigest()
    assert rows["1.2.3.5"].size == len(b"report")
    assert rows["1.2.3.4"].path == str(first.path.relative_to(private_data_dir))


def test_a_uid_written_again_replaces_its_row(tmp_path: Path, private_data_dir: Path) -> None:
    capture = received_capture(tmp_path)
    instances_record(capture, [_written(capture.id, "1.2.3.4", b"first try", sha256=None)])
    (before,) = DicomInstance.objects.filter(capture=capture)

    # A step run again after a crash rewrites the same instance, larger this time.
    again = _written(capture.id, "1.2.3.4", b"the second try", sha256=None)
    instances_record(capture, [again])

    (after,) = DicomInstance.objects.filter(capture=capture)
    assert after.id == before.id and after.created_at == before.created_at
    assert after.size == len(b"the second try")
    assert after.sha256 == hashlib.sha256(b"the second try").hexdigest()


def test_nothing_written_records_nothing(tmp_path: Path) -> None:
    capture = received_capture(tmp_path)
    with CaptureQueriesContext(connection) as queries:
        instances_record(capture, [])
    assert len(queries) == 0
