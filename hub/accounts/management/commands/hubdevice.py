"""`manage.py hubdevice NAME`: enrolls a device; prints its one-time enrollment code last."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hub.accounts.devices import device_create, enrollment_code_issue
from hub.accounts.tokens import console_actor
from hub.audit.services import audit_record


class Command(BaseCommand):
    help = (
        "Creates a device (or takes the existing one) and prints a one-time enrollment code "
        "for `python -m mobile_client.agent enroll CODE --hub URL`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the device, e.g. endo-tower-3")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        device = device_create(name=name, created_by=None)
        code = enrollment_code_issue(device=device)
        audit_record(
            action="device.code.issue",
            actor_name=console_actor(),
            entity=f"device:{device.name}",
            note="one-time enrollment code, by manage.py hubdevice",
        )
        self.stdout.write(
            f"device {device.name}: enrollment code, valid for "
            f"{settings.HUB_ENROLLMENT_CODE_MINUTES} minutes and one use:"
        )
        self.stdout.write(code)
