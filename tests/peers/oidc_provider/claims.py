"""What the test provider says of a user: its name and its groups as `roles`."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim in the ID token and userinfo, whatever the scope

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return {
            "preferred_username": request.user.username,
            "roles": sorted(request.user.groups.values_list("name", flat=True)),
        }
