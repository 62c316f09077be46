"""Tokens and devices in the admin: listed without keys, revoked by deleting, codes issued."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from hub.accounts.devices import enrollment_code_issue, enrollment_qr_png, enrollment_uri
from hub.accounts.models import Device, HubToken
from hub.audit.models import Outcome
from hub.audit.services import audit_record


class AuditedAdminSignIn(AdminAuthenticationForm):
    """The admin's password sign-in, its successes and failures on record like the API's."""

    def clean(self) -> dict[str, Any]:
        address = self.request.META.get("REMOTE_ADDR") if self.request else None
        try:
            cleaned = super().clean()
        except ValidationError:
            # django-axes marks the request once this failure locks the user out.
            locked = bool(getattr(self.request, "axes_locked_out", False))
            audit_record(
                action="sign-in",
                actor=AnonymousUser(),
                entity="admin",
                address=address,
                outcome=Outcome.REFUSED,
                note=f"admin, as {self.cleaned_data.get('username', '')!r}"
                + (": locked out" if locked else ""),
            )
            if self.request is not None:
                self.request.hub_sign_in_audited = True  # type: ignore[attr-defined]
            raise
        audit_record(action="sign-in", actor=self.get_user(), entity="admin", address=address)
        return cleaned


admin.site.login_form = AuditedAdminSignIn
# The sign-in page offers single sign-on when it is configured (hub.accounts.oidc).
admin.site.login_template = "admin/hub_login.html"


@admin.register(HubToken)
class HubTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "kind", "name", "user", "created", "expiry"]
    list_filter = ["kind"]
    search_fields = ["token_key", "name", "user__username"]
    # The digest stays out of sight; the key itself was never stored.
    fields = readonly_fields = ["token_key", "kind", "name", "user", "device", "created", "expiry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: HubToken) -> None:
        _revoked(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HubToken]) -> None:
        _revoked(request, list(queryset.select_related("user")))
        super().delete_queryset(request, queryset)


def _revoked(request: HttpRequest, tokens: list[HubToken]) -> None:
    for token in tokens:
        audit_record(
            action="token.revoke",
            actor=request.user,
            entity=f"token:{token.token_key}",
            address=request.META.get("REMOTE_ADDR"),
            note=f"of {token.user.get_username()}, in the admin",
        )


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_by", "created_at"]
    readonly_fields = ["user", "created_by", "created_at"]
    actions = ["issue_enrollment_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py hubdevice NAME` makes the device and its user together

    @admin.action(description="Issue a one-time enrollment code (shown with its QR code)")
    def issue_enrollment_code(
        self, request: HttpRequest, queryset: QuerySet[Device]
    ) -> TemplateResponse:
        hub_url = settings.HUB_PUBLIC_URL or request.build_absolute_uri("/")
        enrollments = []
        for device in queryset:
            code = enrollment_code_issue(device=device)
            audit_record(
                action="device.code.issue",
                actor=request.user,
                entity=f"device:{device.name}",
                address=request.META.get("REMOTE_ADDR"),
                note="one-time enrollment code, in the admin",
            )
            payload = enrollment_uri(hub_url=hub_url, code=code)
            enrollments.append(
                {
                    "device": device,
                    "code": code,
                    "command": f"python -m mobile_client.agent enroll {code} --hub {hub_url}",
                    "payload": payload,
                    "qr_png": enrollment_qr_png(payload),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Enroll a device",
            "opts": self.model._meta,
            "enrollments": enrollments,
            "minutes": settings.HUB_ENROLLMENT_CODE_MINUTES,
        }
        return TemplateResponse(request, "admin/accounts/device/enrollment.html", context)
