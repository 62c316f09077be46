"""The capture app in Debian's Chromium, phone-sized, against the live hub.

One test walks a nurse's whole round: sign in, scan the wristband with the (fake)
camera, confirm the patient, retake a dark photo, pick a body site, send with the
network dropped mid-upload, see the capture stored and archived, and check that
nothing about the patient stays on the phone.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from capture_api.models import ResumableUpload
from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture
from tests.mobile_client.conftest import WRISTBAND_MRN, make_jpeg

pytestmark = pytest.mark.integration

PASSWORD = "wound-care-4-ever"
# Set CAPTURE_APP_SCREENSHOTS=DIR to keep a phone-sized screenshot of every screen.
SCREENSHOTS = (
    Path(os.environ["CAPTURE_APP_SCREENSHOTS"]) if "CAPTURE_APP_SCREENSHOTS" in os.environ else None
)
HUB_STATES = [
    "received",
    "inspected",
    "matched",
    "unmatched",
    "encapsulated",
    "delivering",
    "archived",
]

DUMP_STORAGE = (Path(__file__).parent / "storage_dump.js").read_text()


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def nurse(transactional_db: None) -> str:
    user_create_or_update(username="nurse.ann", role=Role.CAPTURER, password=PASSWORD)
    return "nurse.ann"


def sign_in(page, app_url: str, username: str) -> None:
    page.goto(app_url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patient").wait_for()


def test_a_round_from_wristband_to_archive(
    app_url: str, phone_without_worker, nurse: str, hub_stack, celery_worker, tmp_path: Path
) -> None:
    context = phone_without_worker
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(app_url)
    page.get_by_role("heading", name="Sign in").wait_for()
    shot(page, "01-signin")
    page.get_by_label("User name").fill(nurse)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patient").wait_for()
    shot(page, "02-patient")

    # The wristband, read from the fake camera (BarcodeDetector or zxing-wasm).
    page.get_by_role("button", name="Scan wristband").click()
    page.locator("#screen-confirm").wait_for(state="visible", timeout=20_000)
    assert page.locator("#mrn").input_value() == WRISTBAND_MRN

    if page.locator("#manual-form").is_visible():  # the hub has no EMR look-up
        page.get_by_label("Family name").fill("DOE")
        page.get_by_label("Given name").fill("JANE")
        page.get_by_label("Birth date").fill("1950-01-31")
        page.get_by_label("Female").check()
        shot(page, "03-confirm")
        page.get_by_role("button", name="Continue").click()
    else:
        shot(page, "03-confirm")
        page.get_by_role("button", name=re.compile("^Yes, this is")).first.click()
    page.get_by_role("heading", name="What is it for?").wait_for()
    page.get_by_label("No order or encounter").check()
    page.get_by_label("Specialty").select_option("wound")
    shot(page, "04-context")
    page.get_by_role("button", name="Continue to camera").click()
    page.get_by_role("heading", name="Photos and videos").wait_for()

    # A dark photo: the app asks for a retake before anything is queued.
    camera = page.locator("#camera-input")
    assert camera.get_attribute("capture") == "environment"
    camera.set_input_files(str(make_jpeg(tmp_path / "dark.jpg", kind="dark", size=(800, 600))))
    page.get_by_role("heading", name="Retake this photo?").wait_for()
    assert "too dark" in page.locator("#quality-text").inner_text()
    shot(page, "05-quality")
    page.get_by_role("button", name="Retake").click()
    assert page.locator("#shots li").count() == 0

    photo = make_jpeg(tmp_path / "wound.jpg", kind="sharp")
    assert photo.stat().st_size > 2 * 1024 * 1024  # three tus chunks or more
    camera.set_input_files(str(photo))
    page.get_by_role("heading", name="Body site").wait_for()
    page.locator('[aria-label="Lower leg (left)"]').click()
    assert page.locator("input[name=laterality][value=L]").is_checked()
    shot(page, "06-site")
    page.get_by_role("button", name="Use this site").click()
    page.locator("#shots .site", has_text="Lower leg (left)").wait_for()
    shot(page, "07-capture")
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_label("Short note (optional)").fill("Pressure ulcer")
    page.get_by_label(re.compile("agreed to these photos")).check()
    shot(page, "08-note")

    # The network drops after the first chunk is stored, in the middle of the upload.
    dropped = []

    def drop_second_chunk(route) -> None:
        if route.request.method == "PATCH" and not dropped:
            dropped.append(route.request.url)
            context.set_offline(True)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/uploads/"), drop_second_chunk)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Uploads").wait_for()
    item = page.locator("#queue-list li").first
    page.wait_for_function(
        "() => document.querySelector('#queue-list li')?.dataset.state === 'waiting'",
        timeout=15_000,
    )
    assert dropped, "the upload never reached a PATCH"
    shot(page, "09-queue-offline")

    # Offline, the capture waits in IndexedDB: sealed, with its resume URL, nothing readable.
    offline = page.evaluate(DUMP_STORAGE)
    queued = offline["idb"]["capture-queue/items"]
    assert len(queued) == 1
    assert set(queued[0]) == {"id", "createdAt", "size", "uploadUrl", "body", "meta"}
    assert "/api/v1/uploads/" in queued[0]["uploadUrl"]
    assert offline["idb"]["capture-queue/keys"] == ["<CryptoKey extractable=false>"]
    assert WRISTBAND_MRN not in json.dumps(offline) and "DOE" not in json.dumps(offline)

    context.set_offline(False)  # the online event resumes the upload from its offset
    page.wait_for_function(
        "(states) => states.includes(document.querySelector('#queue-list li')?.dataset.state)",
        arg=HUB_STATES,
        timeout=30_000,
    )
    upload = ResumableUpload.objects.get()
    assert upload.offset == upload.length == photo.stat().st_size
    assert upload.received_bytes < 2 * upload.length, "the upload restarted instead of resuming"
    capture = Capture.objects.get(resumable_upload=upload)
    assert capture.context["patient"]["id"] == WRISTBAND_MRN
    assert capture.context["body_site"] == {
        "code": "SCT:30021000",
        "meaning": "Lower leg",
        "laterality": "L",
    }
    assert capture.context["description"] == "Pressure ulcer"
    assert capture.context["consent"] is True
    assert capture.context["operator"] == nurse
    assert re.search(r"[+-]\d\d:\d\d$", capture.context["captured_at"])

    # Confirmed by the hub: the phone holds nothing of it any more.
    stored = page.evaluate(DUMP_STORAGE)
    assert stored["idb"]["capture-queue/items"] == []
    assert list(stored["local"]) == ["capturehub.session"]
    assert stored["session"] == {}
    assert not [url for url in stored["cached"] if "/api/" in url]
    text = json.dumps(stored)
    assert WRISTBAND_MRN not in text and "DOE" not in text

    # ... and on to the archive, which the app shows.
    deadline = time.monotonic() + 60
    while capture.status not in ("archived", "rejected", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        capture.refresh_from_db()
    assert capture.status == "archived", (
        f"capture stayed {capture.status} ({capture.reason}); worker log:\n"
        f"{celery_worker.log_tail()}"
    )
    assert hub_stack.find_instance(capture.sop_instance_uid), "the archive does not have it"
    page.wait_for_function(
        "() => document.querySelector('#queue-list li')?.dataset.state === 'archived'",
        timeout=20_000,
    )
    assert item.locator(".state").inner_text() == "Archived"
    shot(page, "10-queue-archived")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    after = page.evaluate(DUMP_STORAGE)
    assert after["local"] == {}
    assert after["idb"].get("capture-queue/keys", []) == []
    assert after["idb"].get("capture-queue/items", []) == []
    assert not errors, errors
