"""Devices are enrolled, never handed a person's token.

An admin creates the device; the hub shows a one-time enrollment code valid
for `HUB_ENROLLMENT_CODE_MINUTES`; the device's agent trades it for a token
of its own (`python -m mobile_client.agent enroll CODE --hub URL`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from hub.accounts.models import Device, EnrollmentCode, HubToken, TokenKind
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.accounts.tokens import token_issue

# Crockford's base32: no I, L, O or U to misread from a screen.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits, for minutes, behind a rate limit


class EnrollmentRefused(Exception):
    """The code is unknown, used already or expired (the device is told no more than that)."""


def device_create(*, name: str, created_by: AbstractBaseUser | None) -> Device:
    """A device and the user it signs in as (role `device`, no password)."""
    with transaction.atomic():
        user = user_create_or_update(username=f"device:{name}", role=Role.DEVICE)
        device, _ = Device.objects.get_or_create(
            name=name, defaults={"user": user, "created_by": created_by}
        )
    return device


def enrollment_code_issue(*, device: Device) -> str:
    """A new one-time code for `device`, shown once; earlier unused codes stop working."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    EnrollmentCode.objects.filter(device=device, used_at=None).update(expires_at=now)
    EnrollmentCode.objects.create(
        device=device,
        digest=_digest(code),
        expires_at=now + timedelta(minutes=settings.HUB_ENROLLMENT_CODE_MINUTES),
    )
    return code


def enrollment_uri(*, hub_url: str, code: str) -> str:
    """What the enrollment QR code holds: `capturehub://enroll?hub=URL&code=CODE`.

    Like `otpauth://` for one-time passwords: one URI, both values
    percent-encoded, so a scanner or a script reads them with any URL parser.
    """
    return "capturehub://enroll?" + urlencode({"hub": hub_url, "code": code})


def enrollment_qr_png(payload: str) -> str:
    """The payload as a QR code, a PNG `data:` URI to put in the page itself (nothing to cache)."""
    return segno.make(payload, error="m").png_data_uri(scale=6)


def device_enroll(*, code: str) -> tuple[HubToken, str]:
    """Trades a valid, unused code for the device's token; the code is spent by this call."""
    now = timezone.now()
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    enrollment = EnrollmentCode.objects.filter(digest=_digest(normalised)).first()
    # Conditional update: of two requests racing with one code, one wins.
    if enrollment is None or not EnrollmentCode.objects.filter(
        pk=enrollment.pk, used_at=None, expires_at__gt=now
    ).update(used_at=now):
        raise EnrollmentRefused("this enrollment code is unknown, used or expired")
    device = enrollment.device
    return token_issue(user=device.user, name=device.name, kind=TokenKind.DEVICE, device=device)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
