from django.contrib import admin

from hub.delivery.models import Withdrawal

# Deliveries, destinations and routing rules are in hub.workbench.destinations_admin
# (re-sending a delivery starts a task, which only the workbench may do).


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    list_display = ["id", "capture", "sop_instance_uid", "reason", "status", "attempts", "done_at"]
    list_filter = ["status", "reason"]
    search_fields = ["capture__id", "sop_instance_uid"]
    readonly_fields = [f.name for f in Withdrawal._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
