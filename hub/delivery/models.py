"""One capture's delivery to one destination, with its attempts."""

from __future__ import annotations

from django.db import models

from hub.captures.models import Capture


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    # Stored; the archive's Storage Commitment report is awaited (hub.delivery.commitment).
    COMMITTING = "committing"
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
    # Storage Commitment (PS3.4 Annex J): the Transaction UID of the last
    # N-ACTION, minted before it is sent; the archive's report (its committed
    # and failed instances) once it came; and until when it is awaited.
    commitment_uid = models.CharField(max_length=64, blank=True, db_index=True)
    commitment_report = models.JSONField(null=True, blank=True)
    commitment_due_at = models.DateTimeField(null=True, blank=True)
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


class DestinationKind(models.TextChoices):
    STOW_RS = "stow-rs", "DICOMweb STOW-RS"
    C_STORE = "c-store", "DIMSE C-STORE"
    MHD = "mhd", "IHE MHD (ITI-65), the original with XDS metadata"
    FOLDER = "folder", "Folder export (PS3.10 files)"


class Destination(models.Model):
    """Somewhere captures are delivered to, managed by operators in the admin.

    HUB_STOWRS_URL and HUB_MHD_URL seed the rows "archive" and "mhd"
    (`from_settings`), kept in step with those settings.
    """

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=DestinationKind.choices)
    enabled = models.BooleanField(default=True)
    url = models.URLField(max_length=1024, blank=True, help_text="STOW-RS or MHD: the base URL")
    host = models.CharField(max_length=255, blank=True, help_text="C-STORE: the SCP's host")
    port = models.PositiveIntegerField(null=True, blank=True, help_text="C-STORE: its port")
    called_aet = models.CharField(max_length=16, blank=True, help_text="C-STORE: its AE title")
    folder = models.CharField(max_length=1024, blank=True, help_text="folder export: a directory")
    username = models.CharField(max_length=255, blank=True)
    secret_setting = models.CharField(
        max_length=128,
        blank=True,
        help_text="the environment variable holding the password (STOW-RS) or token (MHD)",
    )
    secret_file = models.CharField(
        max_length=1024, blank=True, help_text="or a file holding it (a systemd or Docker secret)"
    )
    verify_tls = models.BooleanField(default=True, help_text="check the server's certificate")
    storage_commitment = models.BooleanField(
        default=False,
        help_text="C-STORE: ask the archive to commit (N-ACTION) and count the delivery only "
        "once its report says so; the archive must know the hub's AE (HUB_AE_TITLE and "
        "HUB_DICOM_PORT)",
    )
    # DIMSE over TLS (PS3.15 B.1); STOW-RS and MHD take TLS from their https:// URL.
    tls = models.BooleanField(default=False, help_text="C-STORE: over TLS")
    tls_ca_file = models.CharField(
        max_length=1024, blank=True, help_text="C-STORE TLS: CA bundle (PEM); empty: the system's"
    )
    tls_cert_file = models.CharField(
        max_length=1024, blank=True, help_text="C-STORE TLS: the hub's client certificate (PEM)"
    )
    tls_key_file = models.CharField(
        max_length=1024, blank=True, help_text="C-STORE TLS: its private key (PEM)"
    )
    timeout_seconds = models.FloatField(default=60.0)
    from_settings = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def takes(self) -> str:
        """What it is sent: the kept original (MHD) or the DICOM instances."""
        return "original" if self.kind == DestinationKind.MHD else "dicom"


class RoutingRule(models.Model):
    """Captures that match every criterion set here go to the rule's destinations.

    With no enabled rule, every enabled destination takes what it can (DICOM
    or the original). A capture that no rule matches waits with a reason.
    """

    name = models.CharField(max_length=128)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="rules are listed in this order")
    specialty = models.CharField(max_length=32, blank=True, help_text="empty: any")
    department = models.CharField(max_length=128, blank=True, help_text="empty: any")
    media_kind = models.CharField(
        max_length=16, blank=True, help_text="photo, video or document; empty: any"
    )
    sop_class_uid = models.CharField(max_length=64, blank=True, help_text="the IOD; empty: any")
    source = models.CharField(
        max_length=8,
        blank=True,
        choices=[("user", "a user's capture"), ("device", "a device's export")],
        help_text="empty: any",
    )
    content = models.CharField(
        max_length=8,
        blank=True,
        choices=[("dicom", "the DICOM instances"), ("original", "the kept original")],
        help_text="empty: whatever each destination takes",
    )
    max_size_bytes = models.BigIntegerField(null=True, blank=True, help_text="empty: any size")
    destinations = models.ManyToManyField(Destination, related_name="rules")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name
