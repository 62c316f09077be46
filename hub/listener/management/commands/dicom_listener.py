"""`manage.py dicom_listener`: the hub's DICOM listener in the foreground until SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.listener.server import listener_start


class Command(BaseCommand):
    help = "Run the hub's DICOM listener (C-STORE SCP, commitment reports) on HUB_DICOM_PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, help="instead of HUB_DICOM_PORT")
        parser.add_argument("--bind", help="instead of HUB_DICOM_BIND")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"] or settings.HUB_DICOM_PORT
        if not port:
            raise CommandError("HUB_DICOM_PORT is not set: the DICOM listener is off")
        stopping = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stopping.set())
        server = listener_start(port=port, host=options["bind"])
        self.stdout.write(f"DICOM listener {settings.HUB_AE_TITLE} ready on port {port}")
        self.stdout.flush()
        try:
            stopping.wait()
        finally:
            server.shutdown()
