"""A patient's wound over time, and the photos of it (docs/wound-measurement.md)."""

from __future__ import annotations

import uuid

from django.db import models

from hub.captures.models import Capture

# Tracking Identifier is LO (PS3.3 TID 1410 row 2, PS3.5 6.2).
TRACKING_IDENTIFIER_MAX = 64


class Wound(models.Model):
    """One wound of one patient: the identity its photos and SRs carry (TID 1410
    Tracking Identifier and Tracking UID), minted when its first photo is written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient_id = models.CharField(max_length=64, db_index=True)
    patient_issuer = models.CharField(max_length=64, blank=True)
    # The patient's wounds are numbered 1, 2, ... as the hub meets them.
    number = models.PositiveIntegerField()
    tracking_uid = models.CharField(max_length=64, unique=True)
    body_site = models.JSONField(null=True, blank=True, help_text="the first photo's body_site")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient_id", "patient_issuer", "number"], name="wound_number_per_patient"
            )
        ]

    def __str__(self) -> str:
        return self.tracking_identifier

    @property
    def tracking_identifier(self) -> str:
        """What people read, e.g. "Wound 2, Lower leg, left": stable, as the number and
        the first photo's site do not change."""
        label = f"Wound {self.number}"
        site = self.body_site or {}
        if site.get("meaning"):
            side = {"L": "left", "R": "right", "B": "both sides"}.get(site.get("laterality") or "")
            label += f", {site['meaning']}" + (f", {side}" if side else "")
        return label[:TRACKING_IDENTIFIER_MAX]


class WoundPhoto(models.Model):
    """A capture showing the wound; set once, before the capture's photo is written."""

    wound = models.ForeignKey(Wound, on_delete=models.PROTECT, related_name="photos")
    capture = models.OneToOneField(Capture, on_delete=models.CASCADE, related_name="wound_photo")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.wound} in capture {self.capture_id}"
