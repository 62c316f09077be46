"""Browser tests of the capture app: Debian's Chromium, driven by Playwright, against the hub."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from tests.browser import CHROMIUM
from tests.browser import CHROMIUM_ARGS as BROWSER_ARGS

PWA = Path(__file__).resolve().parents[2] / "mobile_client" / "pwa"
# docs: PEERS.md "Browser tests"; the fake camera plays a file of our own.
CHROMIUM_ARGS = [
    *BROWSER_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
WRISTBAND_MRN = "MRN-0042"
# What every test user of the app signs in with (the fixture `nurse`, steps.sign_in).
PASSWORD = "wound-care-4-ever"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    """The app as the hub serves it: node_modules from `npm ci`, then `npm run build`."""
    if not (PWA / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(PWA), "--no-audit", "--no-fund"], check=True)
    subprocess.run(["node", str(PWA / "build.mjs")], check=True, capture_output=True)
    return PWA / "dist"


@pytest.fixture(scope="session")
def wristband_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .y4m the fake camera plays: a wristband label with a QR code of the MRN."""
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed to make the fake camera's video (Debian package ffmpeg)")
    folder = tmp_path_factory.mktemp("camera")
    qr = cv2.QRCodeEncoder.create().encode(WRISTBAND_MRN)
    qr = cv2.resize(qr, None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640, 3), 235, np.uint8)
    y, x = (480 - qr.shape[0]) // 2, 60
    frame[y : y + qr.shape[0], x : x + qr.shape[1]] = cv2.cvtColor(qr, cv2.COLOR_GRAY2BGR)
    cv2.putText(frame, "DOE^JANE", (x + qr.shape[1] + 20, 200), 0, 0.9, (30, 30, 30), 2)
    cv2.putText(frame, WRISTBAND_MRN, (x + qr.shape[1] + 20, 250), 0, 0.9, (30, 30, 30), 2)
    still = folder / "wristband.png"
    cv2.imwrite(str(still), frame)
    video = folder / "wristband.y4m"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
            str(still),
            "-t",
            "1",
            "-r",
            "10",
            "-pix_fmt",
            "yuv420p",
            str(video),
        ],
        check=True,
    )
    return video


@pytest.fixture(scope="session")
def browser(wristband_video: Path, django_db_setup: None) -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    # Playwright's sync API keeps an asyncio loop on this thread; the ORM calls the
    # tests make in between are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launched(playwright_api, wristband_video)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launched(playwright_api: object, wristband_video: Path) -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={wristband_video}"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app_url(pwa_dist: Path, live_server: object, settings: object) -> str:
    settings.HUB_PWA_DIR = pwa_dist
    # localhost, not 127.0.0.1: a secure context either way, and the name the hub allows.
    return f"{live_server.url}/capture/"


def _phone_context(browser: object, **options: object) -> object:
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        permissions=["camera"],
        **options,
    )


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    """A fresh phone-sized browser context (its own storage), with camera permission."""
    context = _phone_context(browser)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def phone_without_worker(browser: object) -> Iterator[object]:
    """The same, with the service worker blocked, so that page.route sees every request."""
    context = _phone_context(browser, service_workers="block")
    try:
        yield context
    finally:
        context.close()


def make_jpeg(path: Path, *, kind: str, size: tuple[int, int] = (1600, 1200)) -> Path:
    """A photo made by code: `sharp` (textured, several MB), `blurred` or `dark`."""
    width, height = size
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if kind == "blurred":
        image = cv2.GaussianBlur(image, (0, 0), 12)
    elif kind == "dark":
        image = (image // 10).astype(np.uint8)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


@pytest.fixture
def nurse(transactional_db: None) -> str:
    """A capturer who signs in to the app with PASSWORD."""
    user_create_or_update(username="nurse.kim", role=Role.CAPTURER, password=PASSWORD)
    return "nurse.kim"


@pytest.fixture
def no_emr(settings) -> None:
    """The hub has no EMR to look patients up in (HUB_FHIR_URL empty)."""
    settings.HUB_FHIR_URL = None
