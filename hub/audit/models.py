"""Who did what to which patient's data, when, from where, and how it ended: kept, never edited.

Rows are only ever inserted: the app has no update or delete path, the admin
none either, and on PostgreSQL a trigger refuses UPDATE and DELETE
(migration 0002). The references to the capture and the user carry no
database constraint, so an event outlives what it names (a deleted capture
keeps its trail).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Outcome(models.TextChoices):
    """FHIR AuditEvent.outcome (R4): 0 success, 4 minor failure, 8 serious failure."""

    SUCCESS = "0", "success"
    REFUSED = "4", "refused"  # the request was refused (bad credentials, no such patient, ...)
    FAILED = "8", "failed"


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="empty for the hub's own decisions and for anonymous requests",
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="who, as named when it happened (user or device)"
    )
    action = models.CharField(max_length=64, db_index=True)
    capture = models.ForeignKey(
        "captures.Capture",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    patient = models.CharField(
        max_length=128, blank=True, db_index=True, help_text="the patient's identifier (MRN)"
    )
    entity = models.CharField(
        max_length=255, blank=True, help_text="what was touched: an API URL, a token key, ..."
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=1, choices=Outcome.choices, default=Outcome.SUCCESS)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.capture_id or self.entity}"
