"""The app's parts in the browser: sign-in refusal, offline shell, barcode decoder, photo check."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from tests.axe import axe_violations, describe
from tests.mobile_client.conftest import PWA, make_jpeg

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent

# Runs an app module's export on bytes handed over as base64 (the page's CSP allows no data: URLs).
CALL_ON_BLOB = """async ([module, name, b64, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return (await import(module))[name](new Blob([bytes], { type }));
}"""


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_a_wrong_password_is_refused_in_words(app_url: str, phone, transactional_db: None) -> None:
    user_create_or_update(username="nurse.bo", role=Role.CAPTURER, password="wound-care-4-ever")
    page = phone.new_page()
    page.goto(app_url)
    page.get_by_label("User name").fill("nurse.bo")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").filter(has_text="wrong").inner_text() == (
        "User name or password is wrong."
    )
    found = axe_violations(page)
    assert not found, describe(found)
    assert page.evaluate("localStorage.length") == 0


def test_the_shell_is_installable_and_opens_offline(app_url: str, phone) -> None:
    page = phone.new_page()
    page.goto(app_url)
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)").endswith(
        "/capture/sw.js"
    )
    manifest = page.evaluate("fetch('manifest.webmanifest').then((r) => r.json())")
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert page.evaluate(f"fetch({icon['src']!r}).then((r) => r.ok)")
    # The shell is cached once the worker controls the page; the API never is.
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    phone.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    cached = page.evaluate(
        "caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n)"
        ".then((c) => c.keys())))).then((all) => all.flat().map((r) => r.url))"
    )
    assert cached and all("/capture/" in url for url in cached)
    assert any(url.endswith("zxing_reader.wasm") for url in cached)
    phone.set_offline(False)


@pytest.mark.parametrize("format_name", ["Code128", "QRCode", "DataMatrix"])
def test_the_decoder_reads_wristband_barcodes(
    app_url: str, phone, tmp_path: Path, format_name: str
) -> None:
    image = tmp_path / f"{format_name}.png"
    subprocess.run(
        ["node", str(HERE / "barcode.mjs"), format_name, "MRN-0042", str(image)],
        check=True,
        cwd=PWA,
    )
    page = phone.new_page()
    page.goto(app_url)
    text = page.evaluate(CALL_ON_BLOB, ["./scanner.js", "decodeImage", b64(image), "image/png"])
    assert text == "MRN-0042"


def test_the_quality_check_flags_blurred_and_dark_photos(
    app_url: str, phone, tmp_path: Path
) -> None:
    page = phone.new_page()
    page.goto(app_url)
    measured = {}
    for kind in ("sharp", "blurred", "dark"):
        photo = make_jpeg(tmp_path / f"{kind}.jpg", kind=kind, size=(1200, 900))
        measured[kind] = page.evaluate(
            CALL_ON_BLOB, ["./quality.js", "photoQuality", b64(photo), "image/jpeg"]
        )
    assert measured["sharp"]["problems"] == []
    assert any("blurred" in p for p in measured["blurred"]["problems"])
    assert not any("dark" in p for p in measured["blurred"]["problems"])
    assert any("dark" in p for p in measured["dark"]["problems"])
