"""Where captures go: destinations, routing rules, and each capture's deliveries.

Registered from `hub.workbench.admin`. A delivery is re-sent from its list
(one capture to one destination); what was delivered stays delivered when
rules or destinations change.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hub.delivery.models import Delivery, Destination, RoutingRule
from hub.pipeline.operators import deliveries_resend


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "enabled", "address", "from_settings"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "url", "host", "folder"]
    readonly_fields = ["from_settings"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled", "from_settings"]}),
        ("DICOMweb STOW-RS or MHD", {"fields": ["url", "verify_tls"]}),
        (
            "DIMSE C-STORE",
            {
                "fields": [
                    "host",
                    "port",
                    "called_aet",
                    "storage_commitment",
                    "tls",
                    "tls_ca_file",
                    "tls_cert_file",
                    "tls_key_file",
                ]
            },
        ),
        ("Folder export", {"fields": ["folder"]}),
        ("Credentials", {"fields": ["username", "secret_setting", "secret_file"]}),
        (None, {"fields": ["timeout_seconds"]}),
    ]

    @admin.display(description="address")
    def address(self, destination: Destination) -> str:
        if destination.kind == "c-store":
            return f"{destination.called_aet}@{destination.host}:{destination.port}"
        return destination.url or destination.folder


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "position", "specialty", "media_kind", "source", "content"]
    list_editable = ["enabled", "position"]
    list_filter = ["enabled", "specialty", "media_kind"]
    filter_horizontal = ["destinations"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "capture",
        "destination",
        "status",
        "attempts",
        "updated_at",
        "last_error",
    ]
    list_filter = ["status", "destination"]
    search_fields = ["capture__id"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send again to its destination")
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_resend(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} deliveries sent again", messages.SUCCESS)
