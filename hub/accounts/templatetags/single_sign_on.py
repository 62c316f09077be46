"""`{% single_sign_on_enabled as sso %}`: whether the admin's sign-in page offers single sign-on."""

from __future__ import annotations

from django import template

from hub.accounts.oidc import oidc_enabled

register = template.Library()


@register.simple_tag
def single_sign_on_enabled() -> bool:
    return oidc_enabled()
