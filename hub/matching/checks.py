"""Start-up checks of the EMR and worklist settings.

The clients are built lazily, on the first look-up; these checks build them
once when Django starts a command (`migrate`, which `make run` and
deployments run first, and `check`), so a wrong key path or a missing
setting stops the hub at start-up instead of failing the first capture.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from hub.matching.fhir_settings import fhir_client_from_settings
from hub.matching.worklist import worklist_client_from_settings


@register()
def matching_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    for source, factory in (
        ("EMR", fhir_client_from_settings),
        ("worklist", worklist_client_from_settings),
    ):
        try:
            client = factory()
        except ImproperlyConfigured as error:
            errors.append(Error(f"the {source} settings are wrong: {error}", id=f"hub.{source}"))
            continue
        close = getattr(client, "close", None)
        if close is not None:
            close()
    return errors
