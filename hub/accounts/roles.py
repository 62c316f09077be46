"""The roles a hub user can hold, kept as Django groups."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(StrEnum):
    CAPTURER = "capturer"  # takes captures and sees their own
    DEVICE = "device"  # an enrolled device: uploads and reads its own captures, nothing else
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
        # Operators run the routing: which archives exist and what goes where
        # (credentials stay in settings or files); deleting one is an admin's call.
        ("delivery", "view_destination"),
        ("delivery", "add_destination"),
        ("delivery", "change_destination"),
        ("delivery", "view_routingrule"),
        ("delivery", "add_routingrule"),
        ("delivery", "change_routingrule"),
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


def user_is_device(user: AbstractBaseUser | AnonymousUser) -> bool:
    """An enrolled device's user (never a superuser): it may only upload and read its own."""
    return user.is_authenticated and not user.is_superuser and Role.DEVICE in user_roles(user)


def user_may_look_up_patients(user: AbstractBaseUser | AnonymousUser) -> bool:
    """People who photograph patients (and their overseers) confirm identities; devices not."""
    return bool(user_roles(user) & {Role.CAPTURER, Role.OPERATOR, Role.ADMIN})
