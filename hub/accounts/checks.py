"""Start-up checks of the installation's security (Django system checks, run by migrate and run)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, register


def data_directory_errors(directory: Path) -> list[Error]:
    """A data directory that others may read or enter is refused: it holds patients' images."""
    try:
        mode = directory.stat().st_mode
    except FileNotFoundError:
        return []
    if mode & (stat.S_IRWXO):
        return [
            Error(
                f"HUB_DATA_DIR {directory} is open to other users (mode {stat.filemode(mode)})",
                hint=f"chmod 700 {directory}",
                id="hub.E001",
            )
        ]
    return []


@register("security", deploy=False)
def data_directory_private(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return data_directory_errors(Path(settings.HUB_DATA_DIR))
