"""A real OpenID Connect provider on loopback: django-oauth-toolkit's, in a process of its own.

The small Django project in `tests/peers/oidc_provider/` is migrated into a
fresh SQLite file, given an RS256 key generated here, its users (each with
groups, sent as the `roles` claim) and the hub as a confidential client, then
served by Django's own server on a free port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.ports import free_port
from tests.peers.process import stop_process, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.peers.oidc_provider.settings"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class OidcProviderError(RuntimeError):
    pass


@dataclass(frozen=True)
class ProviderUser:
    username: str
    password: str
    roles: tuple[str, ...] = ()


class OidcProvider:
    """Started by `start()` or as a context manager; `discovery` is its OpenID metadata."""

    def __init__(
        self,
        workdir: Path,
        *,
        users: list[ProviderUser],
        client_id: str,
        client_secret: str,
        redirect_uri: str,
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "oidc-provider.log"
        self._users = users
        self._client = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
        }
        self._process: subprocess.Popen[bytes] | None = None
        self.discovery: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_path = self.workdir / "oidc-rs256.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=SETTINGS,
            OIDC_PEER_DB=str(self.workdir / "oidc-provider.sqlite3"),
            OIDC_PEER_KEY=str(key_path),
        )
        return env

    def start(self) -> OidcProvider:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = self._env()
        spec = self.workdir / "oidc-seed.json"
        spec.write_text(
            json.dumps(
                {
                    "users": [
                        {"username": u.username, "password": u.password, "roles": list(u.roles)}
                        for u in self._users
                    ],
                    "client": self._client,
                }
            )
        )
        with self.log_path.open("ab") as log:
            for command in (
                [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
                [sys.executable, "-m", "tests.peers.oidc_provider.seed", str(spec)],
            ):
                done = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log)
                if done.returncode:
                    raise OidcProviderError(f"{command[2:4]} failed\n{self._log_tail()}")
            self._process = subprocess.Popen(
                [sys.executable, "-m", "django", "runserver", "--noreload",
                 f"127.0.0.1:{self.port}"],
                cwd=ROOT, env=env, stdout=log, stderr=log,
            )  # fmt: skip
        discovery_url = f"{self.base_url}/o/.well-known/openid-configuration"
        with requests.Session() as session:
            wait_until_answers(
                self._process,
                discovery_url,
                session=session,
                timeout=START_TIMEOUT,
                name="the OIDC provider",
                log_tail=self._log_tail,
                error=OidcProviderError,
            )
            self.discovery = session.get(discovery_url, timeout=10).json()
        return self

    def stop(self) -> None:
        stop_process(self._process, STOP_TIMEOUT)
        self._process = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])
