"""Start-up check of the EMR settings.

The client is built lazily, on the first look-up; this check builds it once
when Django starts a command (`migrate`, which `make run` and deployments run
first, and `check`), so a wrong key path or a missing setting stops the hub at
start-up instead of failing the first capture.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from hub.emr.factory import fhir_client_from_settings


@register()
def emr_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        client = fhir_client_from_settings()
    except ImproperlyConfigured as error:
        return [Error(f"the EMR settings are wrong: {error}", id="hub.EMR")]
    if client is not None:
        client.close()
    return []
