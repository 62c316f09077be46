"""Token authentication for tus requests: knox's check, without its housekeeping."""

from __future__ import annotations

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.models import AbstractAuthToken
from knox.signals import token_expired


class UploadTokenAuthentication(TokenAuthentication):
    """knox's TokenAuthentication minus the sweep of the user's other expired tokens.

    knox reads all of the user's tokens on every request to delete the expired
    ones; a 1 GiB upload is 128 PATCHes, each paying that query. The token
    presented is still refused (and deleted) once expired; the others are swept
    by the next request to any other endpoint.
    """

    def _cleanup_token(self, auth_token: AbstractAuthToken) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True
