from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from hub.audit.services import audit_record
from hub.captures.models import Capture, DicomInstance
from hub.captures.retention import capture_delete
from hub.delivery.models import Delivery
from hub.pipeline.operators import captures_match_again, captures_retry_delivery
from hub.workbench import (
    capture_list,
    destinations_admin,  # noqa: F401  (registers its admins)
    reconcile_views,
)

# The front page counts the operator's queues above the list of models.
admin.site.index_template = "admin/workbench_index.html"


class DicomInstanceInline(admin.TabularInline):
    model = DicomInstance
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DicomInstance._meta.fields]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["destination", "status", "attempts", "last_error", "next_attempt_at", "delivered_at"]
    readonly_fields = fields


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin):
    list_display = [
        "thumbnail",
        "patient",
        "identity",
        "specialty",
        "body_site",
        "status_and_reason",
        "age",
        "created_by",
        "reconcile_link",
    ]
    list_filter = [
        "status",
        capture_list.AttentionFilter,
        capture_list.SpecialtyFilter,
        capture_list.DepartmentFilter,
        capture_list.SourceFilter,
        capture_list.IdentityFilter,
        "mime_type",
        "created_at",
    ]
    search_fields = capture_list.SEARCH_FIELDS
    date_hierarchy = "created_at"
    inlines = [DicomInstanceInline, DeliveryInline]
    actions = ["retry_delivery", "match_again"]
    readonly_fields = [f.name for f in Capture._meta.fields]

    class Media:
        css = {"all": ["workbench/a11y.css"]}

    @admin.display(description="")
    def thumbnail(self, capture: Capture) -> str:
        return capture_list.thumbnail_tag(capture)

    @admin.display(description="patient (MRN)")
    def patient(self, capture: Capture) -> str:
        return capture_list.patient_label(capture)

    @admin.display(description="identity", ordering="identity_unverified")
    def identity(self, capture: Capture) -> str:
        return capture_list.identity_label(capture)

    @admin.display(description="specialty")
    def specialty(self, capture: Capture) -> str:
        return str(capture.context.get("specialty", ""))

    @admin.display(description="body site")
    def body_site(self, capture: Capture) -> str:
        return capture_list.body_site_label(capture)

    @admin.display(description="status", ordering="status")
    def status_and_reason(self, capture: Capture) -> str:
        return capture_list.status_label(capture)

    @admin.display(description="age", ordering="-created_at")
    def age(self, capture: Capture) -> str:
        return capture_list.age_label(capture)

    @admin.display(description="")
    def reconcile_link(self, capture: Capture) -> str:
        url = reverse("admin:captures_capture_reconcile", args=[capture.pk])
        label = "reconcile" if capture.status == "unmatched" else "details / correct"
        return format_html('<a href="{}">{}</a>', url, label)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:capture_id>/reconcile/",
                view(reconcile_views.reconcile),
                name="captures_capture_reconcile",
            ),
            path(
                "<uuid:capture_id>/reconcile/thumbnail/",
                view(reconcile_views.thumbnail),
                name="captures_capture_thumbnail",
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().change_view(request, object_id, *args, **kwargs)
        if response.status_code == 200:
            admin_audit(request, "capture.read", object_id, note="admin")
        return response

    def delete_model(self, request: HttpRequest, obj: Capture) -> None:
        admin_audit(request, "capture.delete", obj.pk, note="admin")
        # Its files go too, once the admin's transaction commits.
        capture_delete(capture_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Capture]) -> None:
        for capture_id in queryset.values_list("pk", flat=True):
            admin_audit(request, "capture.delete", capture_id, note="admin")
            capture_delete(capture_id=capture_id)

    @admin.action(description="Retry delivery of the selected failed captures")
    def retry_delivery(self, request: HttpRequest, queryset: QuerySet[Capture]) -> None:
        failed = list(queryset.filter(status="failed").values_list("id", flat=True))
        captures_retry_delivery(failed)
        self.message_user(request, f"{len(failed)} capture(s) queued for delivery", messages.INFO)

    @admin.action(
        description="Match the selected unmatched captures again (the EMR or worklist is back)",
        permissions=["change"],
    )
    def match_again(self, request: HttpRequest, queryset: QuerySet[Capture]) -> None:
        unmatched = list(queryset.filter(status="unmatched").values_list("id", flat=True))
        again = captures_match_again(unmatched, actor=request.user)
        self.message_user(request, f"{again} capture(s) are being matched again", messages.INFO)


def admin_audit(request: HttpRequest, action: str, capture_id: object, *, note: str) -> None:
    """An operator's access to a capture in the admin, on record."""
    audit_record(
        action=action,
        capture_id=capture_id,
        actor=request.user,
        entity=request.path,
        address=request.META.get("REMOTE_ADDR"),
        note=note,
    )
