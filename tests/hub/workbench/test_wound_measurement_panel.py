"""The capture's admin page shows its wound measurement: sizes, method and the outline
over the photo, or the reason it was not measured."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hub.accounts.roles import Role
from tests.encapsulate.measure.scenes import render
from tests.hub.factories import browser_for
from tests.hub.wounds.measured import measured

pytestmark = pytest.mark.django_db


def page(capture_id: object) -> str:
    url = reverse("admin:captures_capture_reconcile", args=[capture_id])
    response = browser_for(Role.OPERATOR).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_measured_photo_shows_its_sizes_and_the_traced_outline_over_the_photo() -> None:
    scene = render(seed=3)
    traced = [[round(x, 1), round(y, 1)] for x, y in scene.outline.tolist()]
    capture = measured(scene.jpeg(), outline={"points": traced})

    html = page(capture.id)

    area = capture.measurement["area_cm2"]
    assert re.search(rf'id="wound-area">{area:.2f} cm²<', html)
    assert 'id="wound-method">traced by the nurse<' in html
    assert "Wound 1" in html and capture.wound_photo.wound.tracking_uid in html
    svg = re.search(r'<svg id="wound-outline" viewBox="0 0 1200 900".*?</svg>', html, re.S)
    assert svg is not None
    (points,) = re.findall(r'<polygon points="([^"]+)"', svg.group(0))
    drawn = [[float(v) for v in p.split(",")] for p in points.split()]
    assert drawn == traced
    assert 'href="thumbnail/"' in svg.group(0)


def test_a_refused_outline_shows_the_reason() -> None:
    crossing = [[100, 100], [300, 300], [300, 100], [100, 300]]
    capture = measured(render(seed=3).jpeg(), outline={"points": crossing})

    html = page(capture.id)

    assert re.search(r'id="wound-refusal"><strong>Not measured:</strong> the outline crosses', html)
    assert 'id="wound-outline"' not in html


def test_a_photo_never_measured_has_no_measurement_section(tmp_path) -> None:
    capture = measured(render(seed=3).jpeg(), specialty="general")

    assert 'id="wound-measurement"' not in page(capture.id)
