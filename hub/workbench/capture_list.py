"""What the operators' capture list shows and filters on.

A capture's patient, order, encounter and body site live in its context
(JSON); these read them for the list and let the admin filter on them, so an
operator finds `MRN-0042` or a patient's name without knowing any UID.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from encapsulate import Specialty
from hub.captures.models import Capture, CaptureStatus

# What the search box looks in, besides the hub's own ids.
SEARCH_FIELDS = [
    "context__patient__id",
    "context__patient__name",
    "context__order__accession_number",
    "context__encounter__id",
    "id",
    "sop_instance_uid",
    "study_instance_uid",
    "original_sha256",
]
DELIVERING_TOO_LONG = timedelta(hours=1)
THUMBNAIL_CSS_PX = 64


def waiting_for_lookups() -> Q:
    """Inspected captures whose match step found the EMR or worklist down."""
    return Q(status=CaptureStatus.INSPECTED, match_attempts__gt=0)


def delivering_too_long() -> Q:
    return Q(status=CaptureStatus.DELIVERING, updated_at__lt=timezone.now() - DELIVERING_TOO_LONG)


def attention_counts() -> list[dict[str, Any]]:
    """The queues an operator works through, each with its count and its filtered list."""
    changelist = reverse("admin:captures_capture_changelist")
    queues = [
        ("Unmatched", Q(status=CaptureStatus.UNMATCHED), "status__exact=unmatched"),
        ("Failed", Q(status=CaptureStatus.FAILED), "status__exact=failed"),
        ("Waiting on the EMR or worklist", waiting_for_lookups(), "attention=waiting"),
        ("Delivering for more than an hour", delivering_too_long(), "attention=delivering"),
    ]
    return [
        {"label": label, "count": Capture.objects.filter(q).count(), "url": f"{changelist}?{query}"}
        for label, q, query in queues
    ]


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "waiting on the EMR or worklist"), ("delivering", "delivering > 1 h")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> QuerySet[Capture]:
        if self.value() == "waiting":
            return queryset.filter(waiting_for_lookups())
        if self.value() == "delivering":
            return queryset.filter(delivering_too_long())
        return queryset


class SpecialtyFilter(admin.SimpleListFilter):
    title = "specialty"
    parameter_name = "specialty"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(specialty.value, specialty.value) for specialty in Specialty]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> QuerySet[Capture]:
        if self.value():
            return queryset.filter(context__specialty=self.value())
        return queryset


class DepartmentFilter(admin.SimpleListFilter):
    """The department the context names (routing rules match on it too)."""

    title = "department"
    parameter_name = "department"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        named = (
            Capture.objects.exclude(context__department=None)
            .values_list("context__department", flat=True)
            .distinct()
        )
        return [(name, name) for name in sorted({str(n) for n in named if n})]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> QuerySet[Capture]:
        if self.value():
            return queryset.filter(context__department=self.value())
        return queryset


class SourceFilter(admin.SimpleListFilter):
    """Sent by a person with the app, or exported by a device with no patient on it."""

    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("person", "a person (capture app, API)"), ("device", "a device (station)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> QuerySet[Capture]:
        device = Q(context__device__isnull=False) & ~Q(context__device=None)
        if self.value() == "device":
            return queryset.filter(device)
        if self.value() == "person":
            return queryset.exclude(device)
        return queryset


class IdentityFilter(admin.SimpleListFilter):
    """Captures whose patient no EMR checked: the nurse's typing is all there is."""

    title = "identity"
    parameter_name = "identity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("unverified", "not verified against an EMR"), ("verified", "verified or device")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> QuerySet[Capture]:
        if self.value() == "unverified":
            return queryset.filter(identity_unverified=True)
        if self.value() == "verified":
            return queryset.filter(identity_unverified=False)
        return queryset


UNVERIFIED_LABEL = "not verified against an EMR"


def identity_label(capture: Capture) -> str:
    return UNVERIFIED_LABEL if capture.identity_unverified else ""


def patient_label(capture: Capture) -> str:
    patient = capture.context.get("patient") or {}
    if not patient:
        device = capture.context.get("device") or {}
        return f"(station {device.get('station_aet', '?')})"
    name = patient.get("name")
    return f"{name} ({patient.get('id')})" if name else str(patient.get("id"))


def body_site_label(capture: Capture) -> str:
    site = capture.context.get("body_site") or {}
    return str(site.get("meaning") or site.get("code") or "")


def status_label(capture: Capture) -> str:
    return f"{capture.status}: {capture.reason}" if capture.reason else str(capture.status)


def age_label(capture: Capture) -> str:
    return timesince(capture.created_at)


def thumbnail_tag(capture: Capture) -> str:
    if not capture.mime_type.startswith("image/"):
        return capture.mime_type
    url = reverse("admin:captures_capture_thumbnail", args=[capture.pk])
    return format_html(
        '<img src="{}" alt="thumbnail of capture {}" width="{}" loading="lazy">',
        url,
        capture.pk,
        THUMBNAIL_CSS_PX,
    )
