"""`/api/docs/` in Chromium: "Try it out" on POST /api/v1/captures uploads a real file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.captures.models import Capture
from tests.conftest import api_client_for
from tests.media import make_jpeg

pytestmark = pytest.mark.django_db(transaction=True)

CONTEXT = {
    "patient": {"id": "MRN-SWAG", "name": "DOE^JANE", "birth_date": "1950-01-31"},
    "specialty": "wound",
}


def test_try_it_out_sends_a_file_and_a_json_context_and_gets_a_201(
    chromium, live_server, tmp_path: Path
) -> None:
    token = api_client_for("swagger-nurse", Role.CAPTURER).token  # type: ignore[attr-defined]
    photo = make_jpeg(tmp_path / "wound.jpg", width=64, height=48)
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/api/docs/")
        page.locator(".auth-wrapper .authorize").click()
        knox = page.locator(".dialog-ux .auth-container").filter(has_text="knoxApiToken")
        knox.locator("input").fill(f"Token {token}")
        knox.locator("button.authorize").click()
        page.locator(".dialog-ux button.btn-done").first.click()

        operation = page.locator("#operations-api-api_v1_captures_create")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.locator("input[type=file]").set_input_files(str(photo))
        operation.locator("textarea").last.fill(json.dumps(CONTEXT))
        operation.get_by_role("button", name="Execute").click()
        answer = operation.locator(".live-responses-table tbody .response")
        answer.wait_for(timeout=30_000)
        answered = answer.inner_text().strip()
    finally:
        context.close()

    assert answered.startswith("201"), answered
    capture = Capture.objects.get(context__patient__id="MRN-SWAG")
    assert capture.original_name == "wound.jpg"
    assert capture.original_size == photo.stat().st_size
