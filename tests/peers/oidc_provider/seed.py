"""`python -m tests.peers.oidc_provider.seed SPEC.json`: the provider's users and the hub's client.

SPEC: {"users": [{"username", "password", "roles": [...]}],
       "client": {"client_id", "client_secret", "redirect_uri"}}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import django


def main(spec_path: str) -> None:
    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    spec = json.loads(Path(spec_path).read_text())
    for entry in spec["users"]:
        user = User.objects.create_user(entry["username"], password=entry["password"])
        user.groups.set([Group.objects.get_or_create(name=role)[0] for role in entry["roles"]])
    client = spec["client"]
    Application.objects.create(
        name="capture hub",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        redirect_uris=client["redirect_uri"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])
