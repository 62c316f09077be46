"""A real FHIR R4 engine on loopback for the tests: Medplum's, under Node.

No EMR can run here, so the stand-in is Medplum's FHIR engine
(`@medplum/fhir-router` with its in-memory repository) behind the small HTTP
server in `tests/peers/fhir_engine/server.mjs`, loaded with fixture resources
built by code. It answers create, read, update, search and transaction Bundles
like a FHIR R4 server; it does not validate resources, which the hub does on
its side.

The engine picks a free loopback port when it is created and keeps it across
stop/start, so a test can take the EMR away and bring it back on the same
address (its memory is lost on stop).

With `smart=SmartRegistration(...)` it is also a SMART Backend Services
authorization server (its `token_url`) that verifies the client's signed
assertions against the registered public keys and then wants one of the
access tokens it issued on every FHIR request.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.peers.ports import free_port
from tests.peers.process import stop_process, wait_until_answers

ENGINE_DIR = Path(__file__).resolve().parent / "fhir_engine"
NODE_BINARY = os.environ.get("FHIR_ENGINE_NODE", "node")
BASE_PATH = "/fhir/R4"
TOKEN_PATH = "/auth/token"

# Indexing the R4 definitions takes one to two seconds; npm ci about five.
START_TIMEOUT = 30.0
INSTALL_TIMEOUT = 300.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40


class FhirEngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class SmartRegistration:
    """A backend-services client as the EMR knows it: its id and public keys.

    `jwks` is a JWK Set (`{"keys": [...]}`, each key with its `kid`, see
    `public_jwk`); tokens live `expires_in` seconds; `scopes`, when given, are
    the only ones granted (others: invalid_scope).
    """

    client_id: str
    jwks: Mapping[str, Any]
    expires_in: int = 300
    scopes: tuple[str, ...] | None = None


def public_jwk(private_key: Any, kid: str) -> dict[str, Any]:
    """The public half of an RSA (RS384) or P-384 (ES384) key as a JWK with `kid` and `alg`."""
    public = private_key.public_key()
    if hasattr(public, "curve"):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        alg = "ES384"
    else:
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        alg = "RS384"
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


class FhirEngine:
    """One Node process running Medplum's engine, its log under `workdir`.

    With `token` the engine requires `Authorization: Bearer <token>`; with
    `basic` (user, password) it requires HTTP basic auth; with both, either.
    With `smart` it also accepts the access tokens its token endpoint issued
    (`token`, made up when not given, stays for the helpers here).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        token: str | None = None,
        basic: tuple[str, str] | None = None,
        smart: SmartRegistration | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        if smart and not token and not basic:
            token = "fixtures-" + secrets.token_hex(16)
        self.token = token
        self.basic = basic
        self.smart = smart
        self.port = free_port()
        self.log_path = self.workdir / "fhir-engine.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/fhir+json"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif basic:
            self._session.auth = basic

    # Addresses

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}{BASE_PATH}"

    @property
    def token_url(self) -> str:
        """The SMART token endpoint (the `aud` its client assertions must carry)."""
        return f"{self.url}{TOKEN_PATH}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # Life cycle

    def start(self) -> None:
        if self.is_running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        ensure_installed()
        env = {**os.environ, "FHIR_ENGINE_PORT": str(self.port)}
        for name in list(env):
            if name.startswith(("FHIR_ENGINE_TOKEN", "FHIR_ENGINE_BASIC", "FHIR_ENGINE_SMART_")):
                del env[name]
        if self.token:
            env["FHIR_ENGINE_TOKEN"] = self.token
        if self.basic:
            env["FHIR_ENGINE_BASIC"] = ":".join(self.basic)
        if self.smart:
            jwks_path = self.workdir / "smart-jwks.json"
            jwks_path.write_text(json.dumps(self.smart.jwks))
            env["FHIR_ENGINE_SMART_JWKS"] = str(jwks_path)
            env["FHIR_ENGINE_SMART_CLIENT_ID"] = self.smart.client_id
            env["FHIR_ENGINE_SMART_EXPIRES_IN"] = str(self.smart.expires_in)
            if self.smart.scopes is not None:
                env["FHIR_ENGINE_SMART_SCOPES"] = " ".join(self.smart.scopes)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [NODE_BINARY, str(ENGINE_DIR / "server.mjs")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ENGINE_DIR,
                env=env,
            )
        self._wait_until_ready()

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, STOP_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        try:
            wait_until_answers(
                self._process,
                f"{self.url}/healthz",
                session=requests.Session(),
                timeout=START_TIMEOUT,
                name="the FHIR engine",
                log_tail=self.log_tail,
                error=FhirEngineError,
            )
        except FhirEngineError:
            self.stop()
            raise

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(the FHIR engine wrote no log)"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.log_path} ---\n" + "\n".join(tail)

    # Loading fixtures

    def load(self, bundle_or_resources: Any) -> list[str]:
        """Store fixture resources; return their references (`Type/id`) in order.

        Takes a transaction Bundle (a dict or a fhir.resources model; entries
        may refer to each other by `urn:uuid:` fullUrls, which the engine
        rewrites) or an iterable of resources, each POSTed in one transaction.
        """
        bundle = _as_json(bundle_or_resources)
        if not (isinstance(bundle, Mapping) and bundle.get("resourceType") == "Bundle"):
            resources = bundle if isinstance(bundle, list) else [bundle]
            bundle = transaction_bundle(resources)
        response = self._session.post(
            self.base_url,
            data=json.dumps(bundle),
            headers={"Content-Type": "application/fhir+json"},
            timeout=30,
        )
        if response.status_code != 200:
            raise FhirEngineError(
                f"loading fixtures answered {response.status_code}: {response.text[:2000]}"
            )
        references = []
        for entry in response.json().get("entry", []):
            location = entry["response"]["location"]
            type_, id_ = location.split("/")[:2]
            references.append(f"{type_}/{id_}")
        return references

    def fail_next(
        self,
        count: int,
        *,
        status: int = 503,
        retry_after: int | None = None,
        target: str = "fhir",
    ) -> None:
        """Make the next `count` FHIR requests answer `status` without reaching the engine.

        `target="token"`: the next token requests instead (SMART mode).
        """
        params: dict[str, int | str] = {"status": status, "count": count, "target": target}
        if retry_after is not None:
            params["retryAfter"] = retry_after
        response = self._session.post(f"{self.url}/_control/fail", params=params, timeout=10)
        response.raise_for_status()

    # SMART mode

    def smart_stats(self) -> dict[str, int]:
        """Counters: tokenRequests, tokensIssued, tokenRefusals, fhirRefusals (401s)."""
        response = self._session.get(f"{self.url}/_control/smart", timeout=10)
        response.raise_for_status()
        return response.json()

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused from now on (expired, revoked)."""
        response = self._session.post(f"{self.url}/_control/smart/expire", timeout=10)
        response.raise_for_status()

    def set_token_lifetime(self, seconds: int) -> None:
        """The expires_in of the tokens issued from now on."""
        response = self._session.post(
            f"{self.url}/_control/smart/config", params={"expiresIn": seconds}, timeout=10
        )
        response.raise_for_status()

    def read(self, reference: str) -> dict[str, Any]:
        """The stored JSON of `Type/id`, straight from the engine (for assertions)."""
        response = self._session.get(f"{self.base_url}/{reference}", timeout=10)
        response.raise_for_status()
        return response.json()

    def search(self, query: str) -> list[dict[str, Any]]:
        """Resources matching `Type?params` (first page only, for assertions)."""
        response = self._session.get(f"{self.base_url}/{query}", timeout=10)
        response.raise_for_status()
        return [entry["resource"] for entry in response.json().get("entry", [])]


def transaction_bundle(resources: Iterable[Any]) -> dict[str, Any]:
    """A FHIR R4 transaction Bundle (http.html#transaction) POSTing each resource."""
    entries = []
    for resource in resources:
        data = _as_json(resource)
        entries.append(
            {"resource": data, "request": {"method": "POST", "url": data["resourceType"]}}
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _as_json(value: Any) -> Any:
    # fhir.resources models serialise themselves with FHIR's JSON names
    # ("class", not "class_fhir"); anything else is taken as JSON already.
    if hasattr(value, "model_dump_json"):
        return json.loads(value.model_dump_json(exclude_none=True))
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    return value


def ensure_installed() -> None:
    """Install the engine's npm packages from the lock file if they are missing.

    `make test` does this already (node-deps); this covers a bare `pytest`.
    """
    if (ENGINE_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        return
    if shutil.which(NODE_BINARY) is None or shutil.which("npm") is None:
        raise FhirEngineError(
            "node and npm are needed for the FHIR engine: apt-get install nodejs npm"
        )
    result = subprocess.run(
        ["npm", "ci", "--prefix", str(ENGINE_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise FhirEngineError(f"npm ci in {ENGINE_DIR} failed:\n{result.stderr[-4000:]}")


@contextlib.contextmanager
def running_fhir_engine(
    workdir: Path,
    *,
    token: str | None = None,
    basic: tuple[str, str] | None = None,
    smart: SmartRegistration | None = None,
) -> Iterator[FhirEngine]:
    """A FHIR engine started in `workdir` for the duration of the block."""
    engine = FhirEngine(workdir, token=token, basic=basic, smart=smart)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()
