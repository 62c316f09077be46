"""Use cases for hub users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from hub.accounts.roles import ROLE_PERMISSIONS, Role


@transaction.atomic
def user_create_or_update(
    *, username: str, role: Role, password: str | None = None
) -> AbstractUser:
    """Creates the user (or takes the existing one) and gives it exactly `role`.

    Operators and admins may use the Django admin; capturers never do. A
    password (checked by the configured validators) lets the user sign in to
    the mobile app; without one the user signs in with its API token only.
    """
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = role in (Role.OPERATOR, Role.ADMIN)
    user.is_superuser = role is Role.ADMIN
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    elif not user.password or not user.has_usable_password():
        # A new user's empty password counts as "usable" to Django: mark it unusable.
        user.set_unusable_password()
    user.save()
    group, _ = Group.objects.get_or_create(name=role.value)
    group.permissions.set(role_permissions(role))
    user.groups.set([group])
    return user


def role_permissions(role: Role) -> list[Permission]:
    """What a role may do in the admin (superusers, the admins, may do all)."""
    wanted = ROLE_PERMISSIONS.get(role, ())
    found = list(
        Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted},
            codename__in={codename for _, codename in wanted},
        ).select_related("content_type")
    )
    return [p for p in found if (p.content_type.app_label, p.codename) in wanted]
