"""Use cases for hub users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from hub.accounts.roles import Role


@transaction.atomic
def user_create_or_update(*, username: str, role: Role) -> AbstractUser:
    """Creates the user (or takes the existing one) and gives it exactly `role`.

    Operators and admins may use the Django admin; capturers never do.
    """
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = role in (Role.OPERATOR, Role.ADMIN)
    user.is_superuser = role is Role.ADMIN
    if not user.has_usable_password():
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role.value)[0]])
    return user
