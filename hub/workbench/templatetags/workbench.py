from __future__ import annotations

from typing import Any

from django import template

from hub.workbench.capture_list import attention_counts

register = template.Library()


@register.inclusion_tag("admin/workbench_attention.html")
def workbench_attention() -> dict[str, Any]:
    """The operator's queues, counted, on the admin's front page."""
    return {"queues": attention_counts()}
