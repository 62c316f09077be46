from django.contrib import admin

from hub.delivery.models import Delivery


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
