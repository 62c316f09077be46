"""Wrong EMR or worklist settings stop the hub at start-up, not at the first capture."""

from __future__ import annotations

from django.core.checks import Error

from hub.dimse.checks import worklist_settings
from hub.emr.checks import emr_settings


def start_up_errors() -> list[Error]:
    return [*emr_settings(None), *worklist_settings(None)]


def test_good_settings_pass(settings) -> None:
    settings.HUB_FHIR_URL = "https://emr.example/fhir/R4"
    settings.HUB_FHIR_SMART_CLIENT_ID = None
    settings.HUB_MWL_HOST = None

    assert start_up_errors() == []


def test_incomplete_settings_are_errors_that_say_what_is_missing(settings) -> None:
    settings.HUB_FHIR_URL = "https://emr.example/fhir/R4"
    settings.HUB_FHIR_SMART_CLIENT_ID = "hub"
    settings.HUB_MWL_HOST, settings.HUB_MWL_AET = "mwl.example", None

    errors = {error.id: error.msg for error in start_up_errors()}

    assert "HUB_FHIR_SMART_TOKEN_URL" in errors["hub.EMR"]
    assert "HUB_MWL_AET" in errors["hub.worklist"]
