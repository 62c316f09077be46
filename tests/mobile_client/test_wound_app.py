"""The capture app's wound measurement in Chromium, against the live hub and its worker:
a nurse traces a wound's outline on the photo and sees the hub's area; a second photo
of the same wound is framed by the first one's ghost and the area trend has two points.

The photos are rendered by tests/encapsulate/measure/scenes.py (a marker and a wound
of known area) and given to the camera input, as the other capture tests do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.captures.models import Capture
from hub.wounds.models import Wound
from tests.encapsulate.measure.scenes import render
from tests.mobile_client.steps import sign_in, typed_patient
from tests.mobile_client.test_capture_app import shot

pytestmark = pytest.mark.integration

MRN = "MRN-WOUND-1"


def to_wound_camera(page) -> None:
    """From the patient screen: the patient's details (no EMR), wound care, the camera."""
    page.get_by_role("heading", name="Patient").wait_for()
    typed_patient(page, MRN)
    page.get_by_label("Specialty").select_option("wound")
    page.get_by_role("button", name="Continue to camera").click()
    page.get_by_role("heading", name="Photos and videos").wait_for()


def take_photo(page, photo: Path) -> None:
    page.locator("#camera-input").set_input_files(str(photo))
    page.get_by_role("heading", name="Body site").wait_for()
    # A second photo starts where the first one's site is on the map.
    whole = page.get_by_role("button", name="Whole body")
    if whole.is_visible():
        whole.click()
    page.get_by_role("button", name="Left leg", exact=True).click()
    page.get_by_role("button", name="Lower leg (left)", exact=True).click()
    page.get_by_role("button", name="Use this site").click()
    page.locator("#shots .site", has_text="Lower leg (left)").wait_for()


def send(page) -> None:
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Check and send").wait_for()
    page.get_by_label(re.compile("agreed to these photos")).check()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Uploads").wait_for()


def measured_result(page, index: int) -> object:
    result = page.locator("#wound-results li").nth(index)
    try:
        result.wait_for(timeout=120_000)
    except Exception as error:
        shown = page.locator("#screen-queue").inner_text()
        captures = [
            (c.status, c.measurement_state, c.measurement_reason) for c in Capture.objects.all()
        ]
        raise AssertionError(f"no result {index}: {shown!r}; {captures}") from error
    assert result.get_attribute("data-state") == "measured", result.inner_text()
    return result


def area_shown(result) -> float:
    return float(re.search(r"Area ([\d.]+) cm²", result.locator(".sizes").inner_text()).group(1))


def test_a_traced_outline_is_measured_and_its_area_shown(
    app_url: str, phone_without_worker, nurse: str, no_emr: None, hub_stack, celery_worker,
    tmp_path: Path,
) -> None:  # fmt: skip
    page = phone_without_worker.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    scene = render(seed=3)
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(scene.jpeg())
    sign_in(page, app_url, nurse)
    to_wound_camera(page)
    take_photo(page, photo)

    page.get_by_role("button", name="Trace the outline of this photo").click()
    page.get_by_role("heading", name="Trace the wound's edge").wait_for()
    page.wait_for_function("() => document.querySelector('#trace-photo').naturalWidth === 1200")
    box = page.locator("#trace-canvas").bounding_box()
    scale = box["width"] / 1200
    points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in scene.outline.tolist()]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()
    shot(page, "wound-01-traced")
    assert re.match(r"Outline of \d+ points", page.locator("#trace-status").inner_text())
    page.get_by_role("button", name="Use this outline").click()
    page.locator("#shots .outline-state", has_text="Outline traced").wait_for()
    send(page)

    result = measured_result(page, 0)
    shot(page, "wound-02-measured")
    assert "traced outline" in result.inner_text()
    assert area_shown(result) == pytest.approx(scene.area_cm2, rel=0.05)
    capture = Capture.objects.get()
    assert capture.measurement["method"] == "outline"
    assert len(capture.context["outline"]["points"]) >= 30  # the trace, thinned
    assert capture.context["wound"] == {"new": True}
    assert not errors, errors


def test_a_known_wound_is_framed_by_its_ghost_and_its_trend_has_two_points(
    app_url: str, phone_without_worker, nurse: str, no_emr: None, hub_stack, celery_worker,
    tmp_path: Path,
) -> None:  # fmt: skip
    page = phone_without_worker.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    first, second = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first.write_bytes(render(seed=3).jpeg())
    second.write_bytes(render(seed=4, wound_radius_mm=9).jpeg())

    sign_in(page, app_url, nurse)
    to_wound_camera(page)
    assert page.locator("#wound-ghost").is_hidden()  # no known wound yet
    take_photo(page, first)
    send(page)
    measured_result(page, 0)

    page.get_by_role("button", name="Next patient").click()  # the same patient, a week on
    to_wound_camera(page)
    ghost_choice = page.get_by_label("The next photo is of")
    ghost_choice.wait_for()
    (wound,) = Wound.objects.all()
    new, known = page.locator("#ghost-wound option").all_inner_texts()
    assert new == "A new wound"
    assert re.match(r"Wound 1, Lower leg, left · [\d.]+ cm² on ", known)
    ghost_choice.select_option(str(wound.id))
    page.wait_for_function("() => document.querySelector('#ghost-photo')?.naturalWidth > 0")
    shot(page, "wound-03-ghost")
    take_photo(page, second)
    assert page.locator(f"#shots input[value='{wound.id}']").is_checked()
    send(page)

    result = measured_result(page, 1)
    shot(page, "wound-04-trend")
    assert result.locator(".area-chart circle").count() == 2
    assert "automatic outline" in result.inner_text()
    assert wound.photos.count() == 2
    areas = [c.measurement["area_cm2"] for c in Capture.objects.order_by("created_at")]
    assert areas[1] < areas[0]
    assert not errors, errors
