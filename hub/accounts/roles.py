"""The roles a hub user can hold, kept as Django groups."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(StrEnum):
    CAPTURER = "capturer"  # takes captures and sees their own
    OPERATOR = "operator"  # imaging IT: sees every capture, reconciles, retries
    ADMIN = "admin"  # everything, including users and settings in the admin


# Operators see everything in the admin and reconcile captures (a change of a
# capture); they never delete, and they manage no users.
ROLE_PERMISSIONS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.OPERATOR: (
        ("captures", "view_capture"),
        ("captures", "change_capture"),
        ("captures", "view_dicominstance"),
        ("captures", "view_originaldocument"),
        ("delivery", "view_delivery"),
        ("delivery", "view_withdrawal"),
        ("audit", "view_auditevent"),
        ("matching", "view_studyassignment"),
    ),
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Role)
    names = set(user.groups.values_list("name", flat=True))
    return {role for role in Role if role.value in names}


def user_sees_all_captures(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user_roles(user) & {Role.OPERATOR, Role.ADMIN})
