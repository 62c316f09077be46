"""One capture's delivery to one destination, with its attempts."""

from __future__ import annotations

from django.db import models

from hub.captures.models import Capture


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(models.Model):
    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.CharField(max_length=64, help_text="a destination's name in settings")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=32, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    retrieve_url = models.URLField(max_length=1024, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["capture", "destination"], name="delivery_unique_per_destination"
            )
        ]

    def __str__(self) -> str:
        return f"{self.capture_id} -> {self.destination} ({self.status})"


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Withdrawal(models.Model):
    """An instance sent under a wrong identity, to be withdrawn at the archive (IHE IOCM).

    The old DICOM file is kept until then: the rejection note is built from it.
    """

    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="withdrawals")
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    sop_class_uid = models.CharField(max_length=64)
    study_instance_uid = models.CharField(max_length=64)
    path = models.CharField(max_length=1024, help_text="the old file, below HUB_DATA_DIR")
    reason = models.CharField(max_length=32, help_text="a RejectionReason name (CID 7011)")
    # Minted once so that a retried withdrawal re-sends the same note.
    note_series_instance_uid = models.CharField(max_length=64)
    note_sop_instance_uid = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When it is due (again), and who holds it until when: the sweep finds it by these.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"withdraw {self.sop_instance_uid} ({self.status})"
