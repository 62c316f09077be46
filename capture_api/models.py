"""State of the API's own resources: resumable uploads (tus 1.0.0) on their way to a capture."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from hub.captures.models import Capture


def new_upload_id() -> str:
    return uuid.uuid4().hex


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    # The last byte arrived but the hub would not take the file; `reason` says why.
    REFUSED = "refused"


class ResumableUpload(models.Model):
    """One tus upload: how much of it is on disk, and the capture it became.

    `offset` only moves once the bytes up to it are fsynced. A PATCH holds the
    upload through `lease_token` / `lease_until` (claimed with a conditional
    update, never a transaction held across the network read); an expired lease
    means the request died and the upload may be taken again.
    """

    # A plain string, not a UUIDField: `?upload=` filters then never fail on junk.
    id = models.CharField(primary_key=True, max_length=32, default=new_upload_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resumable_uploads"
    )
    status = models.CharField(
        max_length=16, choices=UploadStatus.choices, default=UploadStatus.RECEIVING, db_index=True
    )
    reason = models.TextField(blank=True, help_text="why the hub refused the file")
    length = models.BigIntegerField(help_text="Upload-Length, in bytes")
    offset = models.BigIntegerField(default=0, help_text="bytes stored durably")
    received_bytes = models.BigIntegerField(
        default=0, help_text="bytes read from the network, discarded and re-sent ones included"
    )
    metadata = models.TextField(blank=True, help_text="Upload-Metadata, as sent")
    filename = models.CharField(max_length=255, blank=True)
    context = models.JSONField(help_text="the capture context, as validated at creation")
    capture = models.OneToOneField(
        Capture,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resumable_upload",
    )
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.status}, {self.offset}/{self.length})"
