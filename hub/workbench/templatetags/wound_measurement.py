"""The wound measurement of a capture on its admin page: sizes, method, the outline
drawn over the photo, or why it was not measured (docs/wound-measurement.md)."""

from __future__ import annotations

from typing import Any

from django import template

from hub.captures.models import Capture
from hub.wounds.models import WoundPhoto

register = template.Library()


@register.inclusion_tag("admin/captures/wound_measurement.html")
def wound_measurement(capture: Capture, thumbnail_url: str = "thumbnail/") -> dict[str, Any]:
    """Nothing for a capture never measured; the outline is in the photo's displayed
    pixels, so an SVG whose viewBox is the photo's size lays it over the thumbnail."""
    if not capture.measurement_state:
        return {"shown": False}
    measured = capture.measurement or {}
    photo = measured.get("photo") or {}
    outline = measured.get("outline") or []
    wound = WoundPhoto.objects.filter(capture=capture).select_related("wound").first()
    return {
        "shown": True,
        "state": capture.measurement_state,
        "reason": capture.measurement_reason,
        "sizes": measured if "area_cm2" in measured else None,
        "wound": wound.wound if wound else None,
        "width": photo.get("width"),
        "height": photo.get("height"),
        "points": " ".join(f"{x:g},{y:g}" for x, y in outline),
        # A line about 3 px wide on a 480 px thumbnail, whatever the photo's size.
        "stroke": max(photo.get("width") or 0, photo.get("height") or 0) / 160 or 1,
        "thumbnail_url": thumbnail_url,
    }
