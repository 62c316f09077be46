"""Start-up check of the worklist settings (see `hub.emr.checks` for why at start-up)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from hub.dimse.worklist import worklist_client_from_settings


@register()
def worklist_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        worklist_client_from_settings()
    except ImproperlyConfigured as error:
        return [Error(f"the worklist settings are wrong: {error}", id="hub.worklist")]
    return []
