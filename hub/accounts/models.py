"""Who may call the API: per-device tokens (stored hashed), enrolled devices, enrollment codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken


class TokenKind(models.TextChoices):
    SIGN_IN = "sign-in"  # a person signed in on one phone or app (or `manage.py hubuser`)
    DEVICE = "device"  # an enrolled device's own token


class HubToken(AbstractAuthToken):
    """One API token: one device or one app sign-in, with an expiry (django-rest-knox).

    Only the SHA-512 digest of the key is kept; `token_key` (its first 15
    characters) names it in lists and in revocation, and is no secret.
    """

    kind = models.CharField(max_length=16, choices=TokenKind.choices, default=TokenKind.SIGN_IN)
    name = models.CharField(
        max_length=120, blank=True, help_text="the device or app it was issued to"
    )
    device = models.ForeignKey(
        "accounts.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.token_key} ({self.kind}, {self.name or 'unnamed'}) of {self.user_id}"


class Device(models.Model):
    """An enrolled capture device (an endoscopy tower's agent, a POCUS dock).

    It signs in as its own user of role `device`, so the captures it sends are
    its own and nobody else's.
    """

    name = models.CharField(max_length=120, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="device"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class EnrollmentCode(models.Model):
    """A one-time code a device trades for its token; only its SHA-256 digest is kept."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="enrollment_codes")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"enrollment of {self.device_id} until {self.expires_at:%Y-%m-%d %H:%M}"
