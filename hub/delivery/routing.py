"""Which destinations a capture goes to: the operators' routing rules.

A rule matches a capture when every criterion it sets matches (an empty one
matches anything); each matching rule adds its destinations. With no enabled
rule at all, every enabled destination takes what it can: the DICOM
instances, or the kept original for MHD - the behaviour of a hub configured
by environment alone. A destination gets a capture only if the capture has
what it takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.captures.models import Capture, OriginalDocument
from hub.delivery.destinations import configured_destinations
from hub.delivery.models import Destination, RoutingRule


@dataclass(frozen=True)
class CaptureFacts:
    """What a rule can look at."""

    specialty: str
    department: str
    media_kind: str
    sop_class_uids: frozenset[str]
    source: str  # "user" or "device"
    size: int
    has_dicom: bool
    has_original: bool


def capture_facts(capture: Capture) -> CaptureFacts:
    context = capture.context or {}
    sop_classes = frozenset(capture.instances.values_list("sop_class_uid", flat=True))
    return CaptureFacts(
        specialty=str(context.get("specialty") or "general"),
        department=str(context.get("department") or ""),
        media_kind=str((capture.media_info or {}).get("kind") or ""),
        sop_class_uids=sop_classes,
        source="device" if context.get("device") else "user",
        size=capture.original_size,
        has_dicom=bool(sop_classes),
        has_original=OriginalDocument.objects.filter(capture=capture).exists(),
    )


def rule_matches(rule: RoutingRule, facts: CaptureFacts) -> bool:
    return (
        (not rule.specialty or rule.specialty == facts.specialty)
        and (not rule.department or rule.department.casefold() == facts.department.casefold())
        and (not rule.media_kind or rule.media_kind == facts.media_kind)
        and (not rule.sop_class_uid or rule.sop_class_uid in facts.sop_class_uids)
        and (not rule.source or rule.source == facts.source)
        and (rule.max_size_bytes is None or facts.size <= rule.max_size_bytes)
    )


def _can_take(destination: Destination, facts: CaptureFacts) -> bool:
    return facts.has_original if destination.takes == "original" else facts.has_dicom


def capture_destinations(capture: Capture) -> list[Destination]:
    """The destinations the capture is to be delivered to, by name, each once."""
    facts = capture_facts(capture)
    enabled = {d.name: d for d in configured_destinations()}
    rules = list(RoutingRule.objects.filter(enabled=True).prefetch_related("destinations"))
    if not rules:
        chosen = list(enabled.values())
    else:
        chosen = []
        for rule in rules:
            if not rule_matches(rule, facts):
                continue
            for destination in rule.destinations.all():
                if destination.name not in enabled:
                    continue
                if rule.content and rule.content != destination.takes:
                    continue
                chosen.append(enabled[destination.name])
    unique = {d.name: d for d in chosen if _can_take(d, facts)}
    return sorted(unique.values(), key=lambda d: d.name)
