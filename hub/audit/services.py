from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from hub.audit.models import AuditEvent


def audit_record(
    *,
    capture_id: object,
    action: str,
    actor: AbstractBaseUser | None = None,
    before: Any = None,
    after: Any = None,
    note: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        capture_id=capture_id, action=action, actor=actor, before=before, after=after, note=note
    )
