"""The capture app in Debian's Chromium, phone-sized, against the live hub.

One test walks a nurse's whole round on a hub without an EMR: sign in, scan the
wristband with the (fake) camera, type the patient's details, retake a dark photo,
pick a body site, send with the network dropped mid-upload, see the capture stored
and archived, and check that nothing about the patient stays on the phone.

The others take the paths an EMR opens, one each, set up so that the app can take
no other: a patient the EMR knows (confirmed by name), an MRN it does not know, and
a patient with several open orders and an encounter, with one order, with nothing.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest

from capture_api.models import ResumableUpload
from hub.captures.models import Capture
from tests.axe import axe_violations, describe
from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital, patient, transaction
from tests.mobile_client.conftest import PASSWORD, WRISTBAND_MRN, make_jpeg
from tests.peers.fhir import FhirEngine

pytestmark = pytest.mark.integration

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


@pytest.fixture(scope="module")
def lone_mrn(fhir_engine: FhirEngine) -> str:
    """The MRN of a patient the EMR knows, with no open order and no current encounter."""
    mrn = f"MRN-LONE-{uuid.uuid4().hex[:8].upper()}"
    lone = patient(mrn=mrn, family="Poe", given=["Ann"], birth_date="1988-08-08", gender="female")
    fhir_engine.load(transaction([(f"urn:uuid:{uuid.uuid4()}", lone)]))
    return mrn


def sign_in(page, app_url: str, username: str) -> None:
    page.goto(app_url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patient").wait_for()


def find_patient(page, mrn: str) -> None:
    page.get_by_label("Or type the MRN").fill(mrn)
    page.get_by_role("button", name="Find patient").click()


def confirm_patient(page, app_url: str, nurse: str, mrn: str, name: str) -> None:
    """Signs in, finds the MRN, confirms the one patient the EMR shows: on to the context."""
    sign_in(page, app_url, nurse)
    find_patient(page, mrn)
    page.get_by_role("heading", name="Is this the patient?").wait_for()
    page.get_by_role(
        "button", name=re.compile(f"^Yes, this is the patient: {re.escape(name)}, born")
    ).click()
    page.get_by_role("heading", name="What is it for?").wait_for()


def link_choices(page) -> list[tuple[str, str, bool]]:
    """The context screen's choices: (value, label text, checked), in the order shown."""
    shown = page.eval_on_selector_all(
        "#context-choices input",
        "inputs => inputs.map(i => [i.value, i.parentElement.innerText, i.checked])",
    )
    return [tuple(choice) for choice in shown]


def send_one_photo(page, tmp_path: Path) -> Capture:
    """From the camera screen: one sharp photo of the left lower leg, consent, Send.

    Returns the capture the hub made of it, once the app shows the hub has it.
    """
    page.get_by_role("heading", name="Photos and videos").wait_for()
    photo = make_jpeg(tmp_path / "wound.jpg", kind="sharp", size=(800, 600))
    page.locator("#camera-input").set_input_files(str(photo))
    page.get_by_role("heading", name="Body site").wait_for()
    page.get_by_role("button", name="Left leg").click()
    page.get_by_role("button", name="Lower leg (left)").click()
    page.get_by_role("button", name="Use this site").click()
    page.locator("#shots .site", has_text="Lower leg (left)").wait_for()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_label(re.compile("agreed to these photos")).check()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Uploads").wait_for()
    page.wait_for_function(
        "(states) => states.includes(document.querySelector('#queue-list li')?.dataset.state)",
        arg=HUB_STATES,
        timeout=30_000,
    )
    return Capture.objects.get()


def test_a_round_from_wristband_to_archive(
    app_url: str,
    phone_without_worker,
    nurse: str,
    no_emr: None,
    hub_stack,
    celery_worker,
    tmp_path: Path,
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

    # No EMR: nobody can be shown for the MRN, so the nurse types the wristband's details.
    assert page.locator("#confirm-title").inner_text() == "Patient details"
    assert page.locator("#manual-form").is_visible()
    assert page.locator("#manual-mrn").inner_text() == WRISTBAND_MRN
    assert page.locator("#confirm-list > *").count() == 0
    page.get_by_label("Family name").fill("DOE")
    page.get_by_label("Given name").fill("JANE")
    page.get_by_label("Birth date").fill("1950-01-31")
    page.get_by_label("Female").check()
    shot(page, "03-confirm")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="What is it for?").wait_for()
    # ... nor orders or encounters: "none" is the only choice, and made already.
    assert link_choices(page) == [
        ("none", "No order or encounter\nNone is open for this patient", True)
    ]
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
    found = axe_violations(page)
    assert not found, describe(found)
    shot(page, "05-quality")
    page.get_by_role("button", name="Retake").click()
    assert page.locator("#shots li").count() == 0

    photo = make_jpeg(tmp_path / "wound.jpg", kind="sharp")
    assert photo.stat().st_size > 2 * 1024 * 1024  # three tus chunks or more
    camera.set_input_files(str(photo))
    page.get_by_role("heading", name="Body site").wait_for()
    page.get_by_role("button", name="Left leg").click()
    page.get_by_role("button", name="Lower leg (left)").click()
    assert page.locator("input[name=laterality][value=L]").is_checked()
    shot(page, "06-site")
    page.get_by_role("button", name="Use this site").click()
    page.locator("#shots .site", has_text="Lower leg (left)").wait_for()
    shot(page, "07-capture")
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Check and send").wait_for()
    page.get_by_label("Note for photo 1 (optional)").fill("Pressure ulcer")
    page.get_by_label(re.compile("agreed to these photos")).check()
    shot(page, "08-review")

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
    assert capture.context["patient"]["name"] == "DOE^JANE"
    assert capture.context["patient"]["birth_date"] == "1950-01-31"
    assert (capture.context["order"], capture.context["encounter"]) == (None, None)
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


# --- with an EMR: one path each ------------------------------------------------------


def test_a_patient_the_emr_knows_is_confirmed_by_name_not_typed(
    app_url: str, phone_without_worker, nurse: str, emr: FhirEngine, loaded: Hospital
) -> None:
    page = phone_without_worker.new_page()
    sign_in(page, app_url, nurse)

    find_patient(page, loaded.mrns["jane"])

    page.get_by_role("heading", name="Is this the patient?").wait_for()
    assert page.locator("#manual-form").is_hidden()
    cards = page.locator("#confirm-list .card")
    assert cards.count() == 1
    assert cards.locator(".patient-name").inner_text() == "Doe, Jane Q"
    assert "1970" in cards.inner_text() and "Female" in cards.inner_text()
    assert f"{loaded.mrns['jane']} · {MRN_SYSTEM}" in cards.inner_text()
    cards.get_by_role(
        "button", name=re.compile("^Yes, this is the patient: Doe, Jane Q, born")
    ).click()
    page.get_by_role("heading", name="What is it for?").wait_for()
    assert "Doe, Jane Q" in page.locator("#screen-context .patient-banner").inner_text()


def test_an_mrn_the_emr_does_not_know_goes_no_further(
    app_url: str, phone_without_worker, nurse: str, emr: FhirEngine, loaded: Hospital
) -> None:
    page = phone_without_worker.new_page()
    sign_in(page, app_url, nurse)
    unknown = f"MRN-NOBODY-{uuid.uuid4().hex[:8].upper()}"

    find_patient(page, unknown)

    error = page.locator("#patient-error")
    error.filter(has_text=unknown).wait_for()
    assert (
        error.inner_text()
        == f"No single active patient has the MRN {unknown}. Check the wristband."
    )
    assert page.locator("#screen-patient").is_visible()
    assert page.locator("#screen-confirm").is_hidden()


def test_a_patient_with_several_open_orders_and_an_encounter_chooses_one(
    app_url: str,
    phone_without_worker,
    nurse: str,
    emr: FhirEngine,
    loaded: Hospital,
    tmp_path: Path,
) -> None:
    page = phone_without_worker.new_page()
    confirm_patient(page, app_url, nurse, loaded.mrns["jane"], "Doe, Jane Q")

    choices = link_choices(page)
    # Her two active orders and the stay in progress; the completed and finished ones not.
    assert [value for value, _, _ in choices] == ["order-0", "order-1", "encounter-0", "none"]
    labels = " | ".join(label for _, label, _ in choices)
    assert loaded.accessions["jane_wound"] in labels and loaded.accessions["jane_derm"] in labels
    assert loaded.accessions["jane_done"] not in labels
    assert f"Inpatient stay {loaded.visits['jane_now']}" in labels
    assert not any(checked for _, _, checked in choices)  # the nurse must choose
    page.get_by_role("button", name="Continue to camera").click()
    assert page.locator("#screen-context").is_visible()

    page.get_by_label(re.compile(f"^Order {loaded.accessions['jane_derm']}:")).check()
    page.get_by_label("Specialty").select_option("dermatology")
    page.get_by_role("button", name="Continue to camera").click()
    capture = send_one_photo(page, tmp_path)

    assert capture.context["patient"]["id"] == loaded.mrns["jane"]
    assert capture.context["order"]["accession_number"] == loaded.accessions["jane_derm"]
    assert capture.context["order"]["service_request"].startswith("ServiceRequest/")
    assert capture.context["encounter"] is None
    assert capture.context["specialty"] == "dermatology"


def test_a_patient_with_one_open_order_is_offered_it(
    app_url: str,
    phone_without_worker,
    nurse: str,
    emr: FhirEngine,
    loaded: Hospital,
    tmp_path: Path,
) -> None:
    page = phone_without_worker.new_page()
    confirm_patient(page, app_url, nurse, loaded.mrns["john"], "Roe, John")

    choices = link_choices(page)
    assert [value for value, _, _ in choices] == ["order-0", "none"]
    assert choices[0][1].startswith(f"Order {loaded.accessions['john_endo']}: Endoscopy stills")
    assert choices[1] == ("none", "No order or encounter", False)
    page.get_by_label(re.compile(f"^Order {loaded.accessions['john_endo']}:")).check()
    page.get_by_role("button", name="Continue to camera").click()
    capture = send_one_photo(page, tmp_path)

    assert capture.context["patient"]["id"] == loaded.mrns["john"]
    assert capture.context["order"]["accession_number"] == loaded.accessions["john_endo"]
    assert capture.context["encounter"] is None


def test_a_patient_with_nothing_open_has_none_chosen(
    app_url: str,
    phone_without_worker,
    nurse: str,
    emr: FhirEngine,
    lone_mrn: str,
    tmp_path: Path,
) -> None:
    page = phone_without_worker.new_page()
    confirm_patient(page, app_url, nurse, lone_mrn, "Poe, Ann")

    assert link_choices(page) == [
        ("none", "No order or encounter\nNone is open for this patient", True)
    ]
    page.get_by_role("button", name="Continue to camera").click()
    capture = send_one_photo(page, tmp_path)

    assert capture.context["patient"]["id"] == lone_mrn
    assert (capture.context["order"], capture.context["encounter"]) == (None, None)
