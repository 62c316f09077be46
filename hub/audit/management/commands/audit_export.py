"""`manage.py audit_export --since ISO-DATETIME [--until ...]`: FHIR AuditEvents as NDJSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from hub.audit.fhir import audit_resources
from hub.audit.services import audit_events_since


def moment(text: str) -> datetime:
    value = parse_datetime(text)
    if value is None:
        raise CommandError(f"{text!r} is not an ISO 8601 date and time")
    return make_aware(value) if is_naive(value) else value


class Command(BaseCommand):
    help = "Writes the audit trail since a moment as FHIR AuditEvent resources, one per line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, type=moment)
        parser.add_argument("--until", type=moment)

    def handle(self, *args: Any, since: datetime, until: datetime | None, **options: Any) -> None:
        events = audit_events_since(since=since, until=until).iterator(chunk_size=500)
        for resource in audit_resources(events, capture_url=lambda id: f"/api/v1/captures/{id}"):
            self.stdout.write(json.dumps(resource, separators=(",", ":")))
