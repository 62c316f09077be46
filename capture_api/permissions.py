"""Who may call what: deny by default; tests/capture_api/test_access_matrix.py holds the matrix."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from hub.accounts.roles import Role, user_is_device, user_may_look_up_patients, user_roles


class IsPerson(IsAuthenticated):
    """Any signed-in person; an enrolled device's token is refused (403)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and not user_is_device(request.user)


class MayLookUpPatients(IsAuthenticated):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and user_may_look_up_patients(request.user)


class IsHubAdmin(IsAuthenticated):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and Role.ADMIN in user_roles(request.user)
