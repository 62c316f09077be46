"""The wound keys of the capture context: which wound, the traced outline, the tap."""

from __future__ import annotations

from typing import Any

import pytest

from encapsulate import ContextError, context_to_json, parse_context
from encapsulate.context.capture import Outline, WoundRef
from encapsulate.context.parse import MAX_OUTLINE_POINTS

BASE: dict[str, Any] = {"patient": {"id": "MRN-1"}, "specialty": "wound"}


def test_a_known_wound_a_traced_outline_and_a_tap_parse_and_round_trip() -> None:
    ctx = parse_context(
        {
            **BASE,
            "wound": {"id": "0b5e0c4e-8f64-4c43-9d0e-8f1c5b8f1a2d"},
            "outline": {"points": [[10, 20], [30.5, 20], [30, 40.25]]},
            "tap": [12, 34.5],
        }
    )

    assert ctx.wound == WoundRef(id="0b5e0c4e-8f64-4c43-9d0e-8f1c5b8f1a2d")
    assert ctx.outline == Outline(points=((10.0, 20.0), (30.5, 20.0), (30.0, 40.25)))
    assert ctx.tap == (12.0, 34.5)
    assert parse_context(context_to_json(ctx)) == ctx


def test_a_new_wound_round_trips_as_new() -> None:
    ctx = parse_context({**BASE, "wound": {"new": True}})

    assert ctx.wound == WoundRef(id=None)
    assert context_to_json(ctx)["wound"] == {"new": True}
    assert parse_context(context_to_json(ctx)) == ctx


def test_without_the_keys_nothing_is_set() -> None:
    ctx = parse_context(BASE)
    assert (ctx.wound, ctx.outline, ctx.tap) == (None, None, None)


# A crossing or out-of-photo outline is well formed: the measurement refuses it later.
def test_a_self_crossing_outline_is_well_formed_here() -> None:
    crossing = [[0, 0], [10, 10], [10, 0], [0, 10]]
    assert parse_context({**BASE, "outline": {"points": crossing}}).outline is not None


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("wound", {}, "context.wound needs either an id (a known wound) or new: true"),
        ("wound", {"id": "W", "new": True}, "context.wound needs either an id"),
        ("wound", {"new": False}, "context.wound.new must be true"),
        ("wound", {"id": 7}, "context.wound.id must be a string"),
        ("wound", {"label": "x"}, "context.wound.label is not a known field"),
        ("outline", [[0, 0], [1, 0], [1, 1]], "context.outline must be a JSON object"),
        ("outline", {"points": [[0, 0], [1, 1]]}, "context.outline.points must be a list of 3"),
        ("outline", {"points": "0,0 1,0 1,1"}, "context.outline.points must be a list of 3"),
        (
            "outline",
            {"points": [[0, 0], [1, 0], [1, "1"]]},
            "context.outline.points[2] must be a point [x, y]",
        ),
        (
            "outline",
            {"points": [[0, 0], [1, 0], [1, True]]},
            "context.outline.points[2] must be a point",
        ),
        ("outline", {"points": [[0, 0], [1, 0], [1]]}, "context.outline.points[2] must be"),
        ("outline", {"points": [[0, 0], [1, 0], [1, 1e9]]}, "context.outline.points[2] must"),
        (
            "outline",
            {"points": [[i, i % 7] for i in range(MAX_OUTLINE_POINTS + 1)]},
            f"context.outline.points must be a list of 3 to {MAX_OUTLINE_POINTS}",
        ),
        ("tap", {"x": 1, "y": 2}, "context.tap must be a point [x, y]"),
        ("tap", [1, float("nan")], "context.tap must be a point [x, y]"),
    ],
)
def test_a_malformed_wound_key_is_refused_with_its_field(key: str, value: Any, reason: str) -> None:
    with pytest.raises(ContextError) as refused:
        parse_context({**BASE, key: value})
    assert refused.value.reason.startswith(reason)
