"""How long a capture's files stay on the hub, and their removal (a purge).

- A rejected capture's original is moved to `quarantine/` by the next sweep
  (nothing reads it there but an operator's thumbnail), and the capture is
  purged `HUB_REJECTED_RETENTION_DAYS` after it was rejected.
- An archived capture is purged `HUB_RETENTION_DAYS` after its last
  destination confirmed it, once no withdrawal and no EMR notice waits on it.
- A capture a person deletes is purged as soon as the delete commits.
- A failed capture waits for a person: it is never purged by time.

A purge deletes the capture's row (its instances, deliveries and withdrawals
go with it) and, in the same transaction, writes a `CapturePurge` naming the
files; the files are removed after the commit, then the purge is marked done
and audited. A purge killed in between is finished by the next sweep. The
archive keeps what it was sent: nothing is withdrawn there (an IOCM rejection
note is for wrong content, and the hub only drops its local copy).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hub.audit.services import audit_record, capture_patient
from hub.captures.models import (
    Capture,
    CapturePurge,
    CaptureStatus,
    OriginalDocument,
    PurgeCause,
)
from hub.captures.storage import data_path, fsync_directory

log = logging.getLogger(__name__)

QUARANTINE = "quarantine"
BATCH = 200


def _rejected_due() -> QuerySet[Capture]:
    if not settings.HUB_REJECTED_RETENTION_DAYS:
        return Capture.objects.none()
    cutoff = timezone.now() - timedelta(days=settings.HUB_REJECTED_RETENTION_DAYS)
    # `rejected` is final: the row's last write is the rejection.
    return Capture.objects.filter(status=CaptureStatus.REJECTED, updated_at__lt=cutoff)


def _retained_due() -> QuerySet[Capture]:
    if not settings.HUB_RETENTION_DAYS:
        return Capture.objects.none()
    cutoff = timezone.now() - timedelta(days=settings.HUB_RETENTION_DAYS)
    # Deliveries and withdrawals are named by their relations (the delivery
    # layer sits above this one): at least one delivery, every one confirmed
    # before the cutoff, and no withdrawal still needing the old files.
    return (
        Capture.objects.filter(
            status=CaptureStatus.ARCHIVED,
            emr_notice_due_at__isnull=True,
            deliveries__isnull=False,
        )
        .exclude(deliveries__delivered_at__isnull=True)
        .exclude(deliveries__delivered_at__gte=cutoff)
        .exclude(withdrawals__status="pending")
        .distinct()
    )


def capture_files(capture: Capture) -> list[dict[str, object]]:
    """Every file and folder of the capture below HUB_DATA_DIR, with its size."""
    paths = {capture.original_path, f"dicom/{capture.id}"}
    paths.update(capture.instances.values_list("path", flat=True))
    paths.update(OriginalDocument.objects.filter(capture=capture).values_list("path", flat=True))
    # Never a shared folder, nor a file another capture still names.
    shared = set(
        Capture.objects.filter(original_path__in=paths)
        .exclude(pk=capture.pk)
        .values_list("original_path", flat=True)
    )
    files: list[dict[str, object]] = []
    for relative in sorted(p for p in paths if p and p not in shared):
        if len(Path(relative).parts) < 2:
            continue
        path = data_path(relative)
        if path.is_dir():
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        else:
            size = path.stat().st_size if path.exists() else 0
        files.append({"path": relative, "bytes": size})
    return files


def _plan(capture: Capture, cause: PurgeCause) -> CapturePurge:
    """Deletes the row and writes what to remove; the caller holds the transaction."""
    purge = CapturePurge.objects.create(
        capture_id=capture.id,
        cause=cause,
        patient=capture_patient(capture.id),
        files=capture_files(capture),
    )
    capture.delete()
    return purge


def capture_delete(*, capture_id: UUID | str) -> CapturePurge | None:
    """Deletes a capture now and its files once the caller's transaction commits.

    The caller records who deleted it (`capture.delete`); the removal of the
    files is recorded as `capture.purge`. None if there is no such capture.
    """
    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None:
            return None
        purge = _plan(capture, PurgeCause.DELETED)
        transaction.on_commit(lambda: purge_finish(purge_id=purge.id))
    return purge


def _plan_if_due(capture_id: UUID, cause: PurgeCause, due: QuerySet[Capture]) -> bool:
    with transaction.atomic():
        # Locked, then checked again: an operator's correction may have just begun.
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None or not due.filter(pk=capture_id).exists():
            return False
        _plan(capture, cause)
    return True


def rejected_originals_quarantine() -> int:
    """Moves rejected captures' originals to quarantine/; how many moved.

    The file is renamed first and the row follows; a crash in between leaves
    the file in quarantine, and the next run points the row at it.
    """
    moved = 0
    rejected = (
        Capture.objects.filter(status=CaptureStatus.REJECTED)
        .exclude(original_path__startswith=f"{QUARANTINE}/")
        .exclude(original_path="")
    )
    directory = Path(settings.HUB_DATA_DIR) / QUARANTINE
    for capture_id, original_path in rejected.values_list("id", "original_path")[:BATCH]:
        if not original_path:
            continue
        source = data_path(original_path)
        target = directory / f"{capture_id}{source.suffix}"
        if source.is_file():
            directory.mkdir(mode=0o700, exist_ok=True)
            source.replace(target)
            fsync_directory(directory)
        if target.exists():
            moved += Capture.objects.filter(pk=capture_id, original_path=original_path).update(
                original_path=str(target.relative_to(settings.HUB_DATA_DIR))
            )
    return moved


def purge_finish(*, purge_id: int) -> bool:
    """Removes a planned purge's files, marks it done and audits it; False if done already."""
    purge = CapturePurge.objects.filter(pk=purge_id, done_at=None).first()
    if purge is None:
        return False
    for entry in purge.files:
        _remove(data_path(str(entry["path"])))
    with transaction.atomic():
        if not CapturePurge.objects.filter(pk=purge.pk, done_at=None).update(
            done_at=timezone.now()
        ):
            return False  # another sweep finished it meanwhile
        audit_record(
            action="capture.purge",
            capture_id=purge.capture_id,
            patient=purge.patient,
            entity=f"purge:{purge.pk}",
            before=purge.files,
            note=PurgeCause(purge.cause).label,
        )
    log.info("purged capture %s (%s)", purge.capture_id, purge.cause)
    return True


def _remove(path: Path) -> None:
    if path.is_dir():
        # A sweep racing this one may remove it first; gone is what both want.
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if path.parent.exists():
        fsync_directory(path.parent)


def captures_purge_expired() -> list[str]:
    """One retention sweep: quarantine, plan what is past its time, finish every open purge.

    Returns the ids of the captures purged by this call (killed purges finished included).
    """
    rejected_originals_quarantine()
    for cause, due in (
        (PurgeCause.REJECTED, _rejected_due()),
        (PurgeCause.RETAINED, _retained_due()),
    ):
        for capture_id in list(due.values_list("id", flat=True)[:BATCH]):
            _plan_if_due(capture_id, cause, due)
    finished = []
    for purge_id, capture_id in CapturePurge.objects.filter(done_at=None).values_list(
        "id", "capture_id"
    ):
        if purge_finish(purge_id=purge_id):
            finished.append(str(capture_id))
    return finished
