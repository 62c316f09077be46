"""A capture's state, its stored original and the DICOM instances made from it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaptureStatus(models.TextChoices):
    """The moves between them are in `hub.captures.states`."""

    RECEIVED = "received"
    INSPECTED = "inspected"
    MATCHED = "matched"
    UNMATCHED = "unmatched"  # waits for an operator in the reconciliation queue
    ENCAPSULATED = "encapsulated"
    DELIVERING = "delivering"
    ARCHIVED = "archived"
    # The two that need a person; `reason` says why.
    REJECTED = "rejected"
    FAILED = "failed"


class CaptureSession(models.Model):
    """What one user takes for one patient at one sitting (docs/api-sessions.md).

    `patient` is the context's patient form (`{"id", "issuer", ...}`): given
    when the session was opened, or taken from its first capture; NULL until
    then. Captures of the session without an order or encounter share one study.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capture_sessions"
    )
    patient = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.id}"


class SessionSeries(models.Model):
    """The series of one body site in one session's study: its UID and number, kept
    so that every capture of that site joins it (PS3.3 C.7.3.1)."""

    session = models.ForeignKey(CaptureSession, on_delete=models.CASCADE, related_name="series")
    study_instance_uid = models.CharField(max_length=64)
    site = models.CharField(max_length=64, help_text="body-site code and laterality; '' for none")
    series_instance_uid = models.CharField(max_length=64)
    series_number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "study_instance_uid", "site"], name="session_series_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.site or '-'} -> {self.series_instance_uid}"


class Capture(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=16, choices=CaptureStatus.choices, default=CaptureStatus.RECEIVED, db_index=True
    )
    reason = models.TextField(blank=True, help_text="why a person must look at it")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="captures"
    )
    # NULL, not "", for "no key": the unique constraint below skips NULLs.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    context = models.JSONField(help_text="the capture context, as validated")
    # Written once at receipt and never again: a correction changes `context`,
    # never what the client sent.
    received_context = models.JSONField(
        null=True, blank=True, editable=False, help_text="the context as the client sent it"
    )
    session = models.ForeignKey(
        CaptureSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="captures",
    )
    identity_unverified = models.BooleanField(
        default=False,
        db_index=True,
        help_text="identity not verified against an EMR: none was configured at receipt",
    )

    original_name = models.CharField(max_length=255, blank=True)
    original_path = models.CharField(max_length=1024, help_text="below HUB_DATA_DIR")
    original_sha256 = models.CharField(max_length=64)
    original_size = models.BigIntegerField()
    mime_type = models.CharField(max_length=100, help_text="sniffed from the content")
    media_info = models.JSONField(null=True, blank=True)
    match_report = models.JSONField(
        null=True, blank=True, help_text="what the client said, what the EMR said, candidates"
    )
    match_attempts = models.PositiveIntegerField(
        default=0, help_text="look-ups that found the EMR or worklist down"
    )

    # Minted once at receipt so that every retry re-sends the same instance.
    study_instance_uid = models.CharField(max_length=64)
    series_instance_uid = models.CharField(max_length=64)
    sop_instance_uid = models.CharField(max_length=64, unique=True)

    # What the EMR was told after archiving: the references it created, or why not.
    emr_notice = models.TextField(blank=True)
    emr_attempts = models.PositiveIntegerField(default=0)

    # When the EMR notice is due (again): the sweep sends it then; None once done.
    emr_notice_due_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # The wound measurement of a wound or burn photo (hub.pipeline.measure):
    # "due" after encapsulation, then "measured" (its JSON here) or "refused"
    # (`measurement_reason` says why); "" for captures never measured. The SR's
    # UIDs and time are minted once, so that a retry writes the same bytes.
    measurement_state = models.CharField(max_length=16, blank=True)
    measurement = models.JSONField(null=True, blank=True)
    measurement_reason = models.TextField(blank=True)
    measurement_uids = models.JSONField(null=True, blank=True)

    # A step in progress holds the capture until then, renewed by the step's
    # heartbeat; an expired lease means the worker died and the step may be
    # taken again. `lease_owner` tells the holder's heartbeat from a later one.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)
    # Tries of the current step (counted when claimed, so a killed worker's try
    # counts too); reset by every move. Bounded by HUB_STEP_MAX_ATTEMPTS.
    step_attempts = models.PositiveIntegerField(default=0)
    step_error = models.TextField(blank=True, help_text="what the last try of the step raised")
    # Where an operator's retry of a `failed` capture takes it back to.
    failed_from = models.CharField(max_length=16, choices=CaptureStatus.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="capture_unique_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"capture {self.id} ({self.status})"


class DicomInstance(models.Model):
    """One DICOM file the hub wrote for a capture, kept until delivered."""

    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="instances")
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    sop_class_uid = models.CharField(max_length=64)
    transfer_syntax_uid = models.CharField(max_length=64)
    path = models.CharField(max_length=1024, help_text="below HUB_DATA_DIR")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    derived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.sop_instance_uid


class OriginalDocument(models.Model):
    """The scrubbed original kept for delivery with XDS metadata (IHE MHD)."""

    capture = models.OneToOneField(Capture, on_delete=models.CASCADE, related_name="original")
    path = models.CharField(max_length=1024, help_text="below HUB_DATA_DIR")
    mime_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"original of {self.capture_id} ({self.mime_type})"


class PurgeCause(models.TextChoices):
    REJECTED = "rejected", "rejected, past HUB_REJECTED_RETENTION_DAYS"
    RETAINED = "retained", "delivered, past HUB_RETENTION_DAYS"
    DELETED = "deleted", "deleted by a person"


class CapturePurge(models.Model):
    """A capture's files to remove, written in the transaction that deletes its row.

    It outlives the capture on purpose: a purge killed half way is found by the
    next sweep (`hub.captures.retention`) and finished; `done_at` says it was.
    """

    capture_id = models.UUIDField(db_index=True)
    cause = models.CharField(max_length=16, choices=PurgeCause.choices)
    patient = models.CharField(max_length=128, blank=True, help_text="for the audit event")
    files = models.JSONField(help_text='[{"path": below HUB_DATA_DIR, "bytes": size}, ...]')
    planned_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"purge of {self.capture_id} ({self.cause})"
