"""The capture app's body map (every target 44 px or more) and its camera refusals
(a denied camera, plain HTTP), with axe-core's WCAG 2.2 AA rules on each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mobile_client.conftest import CHROMIUM, CHROMIUM_ARGS, make_jpeg
from tests.mobile_client.steps import accessible, sign_in, typed_patient

pytestmark = pytest.mark.integration

# Every region of the whole figure, as a nurse taps it.
REGIONS = ["Head and neck", "Trunk", "Right arm", "Left arm", "Right leg", "Left leg"]


def test_every_body_map_target_is_44_px_or_more_with_one_name(
    app_url: str, phone, nurse: str, no_emr: None, tmp_path: Path
) -> None:
    page = phone.new_page()
    sign_in(page, app_url, nurse)
    typed_patient(page, "MRN-7002")
    page.get_by_role("button", name="Continue to camera").click()
    page.locator("#camera-input").set_input_files(
        str(make_jpeg(tmp_path / "a.jpg", kind="sharp", size=(640, 480)))
    )
    page.get_by_role("heading", name="Body site").wait_for()

    measured = 0
    for view in ("Front view", "Back view"):
        page.get_by_role("button", name=view, exact=True).click()
        for region in [None, *REGIONS]:
            if region:
                page.get_by_role("button", name=region, exact=True).click()
                page.get_by_role("button", name="Whole body").wait_for()
            targets = page.locator("#body-map [role=button]")
            names = []
            for target in targets.all():
                box = target.bounding_box()
                name = target.get_attribute("aria-label")
                assert box["width"] >= 44 and box["height"] >= 44, (
                    f"{view} {region}: {name} is {box}"
                )
                names.append(name)
                if region:
                    assert target.get_attribute("aria-pressed") in ("true", "false"), name
                measured += 1
            assert len(names) == len(set(names)) and all(names), f"{view} {region}: {names}"
            if region:
                page.get_by_role("button", name="Whole body").click()
    assert measured >= 2 * 6 + 2 * (3 + 5 + 7 + 7) - 2  # every part of every region, both views

    # aria-pressed follows the choice: true on the picked part, false on the others.
    page.get_by_role("button", name="Front view", exact=True).click()
    page.get_by_role("button", name="Left leg").click()
    page.get_by_role("button", name="Ankle joint (left)").click()
    pressed = page.eval_on_selector_all(
        "#body-map [role=button]",
        "els => els.map(e => [e.getAttribute('aria-label'), e.getAttribute('aria-pressed')])",
    )
    assert [name for name, value in pressed if value == "true"] == ["Ankle joint (left)"]
    assert all(value == "false" for name, value in pressed if name != "Ankle joint (left)")
    accessible(page, "body site, left leg")

    # By keyboard: Enter on a region zooms in and moves to its first part; Space
    # presses a part and the focus stays on it.
    page.get_by_role("button", name="Whole body").click()
    page.get_by_role("button", name="Right arm", exact=True).focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Whole body").wait_for()
    focused = "() => document.activeElement.getAttribute('aria-label')"
    assert page.evaluate(focused) == "Shoulder (right)"
    page.keyboard.press("Tab")
    page.keyboard.press(" ")
    assert page.evaluate(focused) == "Upper arm (right)"
    assert (
        page.get_by_role("button", name="Upper arm (right)").get_attribute("aria-pressed") == "true"
    )
    assert page.locator("#site-select").input_value() == "upperArm"


def test_a_denied_camera_says_how_to_allow_it(app_url: str, browser, nurse: str) -> None:
    # Without the fake camera UI that says yes to every prompt, an ungranted camera is
    # refused as a nurse's "Block" refuses it: NotAllowedError.
    asking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[arg for arg in CHROMIUM_ARGS if arg != "--use-fake-ui-for-media-stream"],
    )
    try:
        page = asking.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        sign_in(page, app_url, nurse)
        page.get_by_role("button", name="Scan wristband").click()
        error = page.locator("#patient-error")
        error.filter(has_text="camera").wait_for()
        text = error.inner_text()
        assert "NotAllowedError" not in text
        assert "blocked" in text and "Camera to Allow" in text and "reload" in text
        accessible(page, "patient, camera denied")
    finally:
        asking.close()


def test_on_plain_http_the_app_refuses_to_start_and_says_why(app_url: str, browser) -> None:
    """A ward address over plain HTTP (not localhost): no camera, no WebCrypto, so no app."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, permissions=["camera"])
    try:
        plain = "http://ward.example.org"
        real = app_url.split("/capture/")[0]
        context.route(
            f"{plain}/**",
            lambda route: route.fulfill(
                response=route.fetch(url=route.request.url.replace(plain, real))
            ),
        )
        page = context.new_page()
        page.goto(f"{plain}/capture/")
        page.get_by_role("heading", name="This address cannot use the camera").wait_for()
        assert page.evaluate("isSecureContext") is False
        text = page.locator("#screen-insecure").inner_text()
        assert (
            "plain HTTP (http://ward.example.org)" in text
            and "HTTPS" in text
            and "docs/deploy.md" in text
        )
        assert page.locator("#screen-signin").is_hidden()
        accessible(page, "insecure")
    finally:
        context.close()
