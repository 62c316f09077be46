from django.contrib import admin

from hub.delivery.models import Delivery, Withdrawal


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

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    list_display = ["id", "capture", "sop_instance_uid", "reason", "status", "attempts", "done_at"]
    list_filter = ["status", "reason"]
    search_fields = ["capture__id", "sop_instance_uid"]
    readonly_fields = [f.name for f in Withdrawal._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
