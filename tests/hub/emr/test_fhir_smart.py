"""SMART Backend Services against a real token endpoint and FHIR engine on loopback.

The engine (tests/peers/fhir_engine) verifies the hub's signed client
assertions against the public keys registered here, issues opaque access
tokens and wants one on every FHIR request; it counts what it saw, which is
how these tests see caching and renewal. Keys are made per run. No database.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings

from hub.emr.auth import SMART_DEFAULT_SCOPE, SmartBackendAuth
from hub.emr.client import (
    FhirClient,
    FhirError,
    FhirUnavailable,
)
from hub.emr.factory import fhir_client_from_settings
from tests.hub.matching import fhir_fixtures
from tests.hub.matching.fhir_fixtures import MRN_SYSTEM
from tests.peers.fhir import FhirEngine, SmartRegistration, public_jwk, running_fhir_engine
from tests.peers.ports import free_port

CLIENT_ID = "capture-hub-" + uuid.uuid4().hex[:8]
MRN = "MRN-SMART-" + uuid.uuid4().hex[:6]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def generate_rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def secret_lines(key_pem: bytes) -> list[str]:
    """The base64 lines of a PEM key: none of them may appear in a message."""
    return [line for line in key_pem.decode().splitlines() if not line.startswith("-----")]


def assert_nothing_secret(text: str, *key_pems: bytes) -> None:
    assert "eyJ" not in text  # no JWT: neither the assertion nor a token
    for key_pem in key_pems:
        assert not any(line in text for line in secret_lines(key_pem))


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa()


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
) -> Iterator[FhirEngine]:
    registration = SmartRegistration(
        client_id=CLIENT_ID,
        jwks={"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")]},
        scopes=tuple(SMART_DEFAULT_SCOPE.split()),
    )
    with running_fhir_engine(tmp_path_factory.mktemp("fhir-smart"), smart=registration) as running:
        running.load(
            [
                fhir_fixtures.patient(
                    mrn=MRN, family="Smart", given=["Sam"], birth_date="1980-03-04", gender="male"
                )
            ]
        )
        yield running


@pytest.fixture
def auth(engine: FhirEngine, rsa_key: rsa.RSAPrivateKey) -> SmartBackendAuth:
    return SmartBackendAuth(CLIENT_ID, engine.token_url, pem(rsa_key), key_id="rsa-1")


@pytest.fixture
def client(engine: FhirEngine, auth: SmartBackendAuth) -> Iterator[FhirClient]:
    with FhirClient(engine.base_url, auth=auth, retries=0) as fhir:
        yield fhir


@pytest.fixture
def short_lived(engine: FhirEngine) -> Iterator[None]:
    """Tests that change the tokens' lifetime put it back."""
    yield
    engine.set_token_lifetime(300)


def counted(engine: FhirEngine, before: dict[str, int]) -> dict[str, int]:
    """What the engine counted since `before`."""
    now = engine.smart_stats()
    return {name: now[name] - before[name] for name in before if name != "expiresIn"}


# Searching through SMART


def test_search_works_through_smart(client: FhirClient) -> None:
    (sam,) = client.find_patients(MRN_SYSTEM, MRN)

    assert sam.name == "Smart^Sam"


def test_es384_key_works_too(engine: FhirEngine, ec_key: ec.EllipticCurvePrivateKey) -> None:
    auth = SmartBackendAuth(
        CLIENT_ID, engine.token_url, pem(ec_key), key_id="ec-1", algorithm="ES384"
    )

    with FhirClient(engine.base_url, auth=auth, retries=0) as client:
        assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1


def test_without_a_token_the_engine_refuses(engine: FhirEngine) -> None:
    with FhirClient(engine.base_url, retries=0) as anonymous, pytest.raises(FhirError, match="401"):
        anonymous.find_patients(MRN_SYSTEM, MRN)


# Caching and renewal


def test_token_is_fetched_once_for_many_requests(client: FhirClient, engine: FhirEngine) -> None:
    before = engine.smart_stats()

    for _ in range(3):
        assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1
    assert client.find_patients(MRN_SYSTEM, "MRN-NOBODY") == []

    assert counted(engine, before) == {
        "tokenRequests": 1,
        "tokensIssued": 1,
        "tokenRefusals": 0,
        "fhirRefusals": 0,
    }


def test_threads_share_one_token_fetch(engine: FhirEngine, auth: SmartBackendAuth) -> None:
    before = engine.smart_stats()
    start = threading.Barrier(8)
    found: list[int] = []
    failures: list[BaseException] = []

    def search() -> None:
        try:
            with FhirClient(engine.base_url, auth=auth, retries=0) as client:
                start.wait()
                found.append(len(client.find_patients(MRN_SYSTEM, MRN)))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert found == [1] * 8
    assert counted(engine, before)["tokenRequests"] == 1


def test_expired_token_is_renewed_once_after_a_401(client: FhirClient, engine: FhirEngine) -> None:
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1
    before = engine.smart_stats()
    engine.expire_tokens()  # the server ends the token early; the client cannot know

    # retries=0: the renewal is not one of the bounded retries.
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1

    assert counted(engine, before) == {
        "tokenRequests": 1,
        "tokensIssued": 1,
        "tokenRefusals": 0,
        "fhirRefusals": 1,
    }


def test_create_is_sent_again_after_a_401(client: FhirClient, engine: FhirEngine) -> None:
    # A 401 means the server did nothing: resending the POST cannot duplicate it.
    client.find_patients(MRN_SYSTEM, MRN)
    engine.expire_tokens()
    mrn = "MRN-SMART-NEW-" + uuid.uuid4().hex[:6]
    before = engine.smart_stats()

    created = client.create(
        fhir_fixtures.patient(
            mrn=mrn, family="New", given=["Nat"], birth_date="2001-01-01", gender="female"
        )
    )

    assert [p["id"] for p in engine.search(f"Patient?identifier={MRN_SYSTEM}|{mrn}")] == [created]
    assert counted(engine, before)["fhirRefusals"] == 1


def test_token_refused_again_after_renewal_is_an_error(
    client: FhirClient, engine: FhirEngine, short_lived: None
) -> None:
    engine.set_token_lifetime(0)  # every token is dead on arrival
    before = engine.smart_stats()

    with pytest.raises(FhirError, match="401") as caught:
        client.find_patients(MRN_SYSTEM, MRN)

    # One renewal, not a loop.
    assert counted(engine, before)["tokenRequests"] == 2
    assert counted(engine, before)["fhirRefusals"] == 2
    assert_nothing_secret(caught.value.reason)


def test_token_is_renewed_before_expires_in(
    client: FhirClient, engine: FhirEngine, short_lived: None
) -> None:
    engine.set_token_lifetime(2)
    before = engine.smart_stats()

    client.find_patients(MRN_SYSTEM, MRN)
    client.find_patients(MRN_SYSTEM, MRN)
    time.sleep(1.9)  # within the renewal margin before expiry: no 401 needed
    client.find_patients(MRN_SYSTEM, MRN)

    assert counted(engine, before)["tokenRequests"] == 2
    assert counted(engine, before)["fhirRefusals"] == 0


# Token endpoint failures


def test_wrong_key_is_invalid_client(engine: FhirEngine) -> None:
    wrong_pem = pem(generate_rsa())
    auth = SmartBackendAuth(CLIENT_ID, engine.token_url, wrong_pem, key_id="rsa-1")
    client = FhirClient(engine.base_url, auth=auth, retries=2, backoff=0.01)

    with pytest.raises(FhirError) as caught:
        client.find_patients(MRN_SYSTEM, MRN)

    reason = caught.value.reason
    assert caught.value.transient is False
    assert "invalid_client" in reason
    assert "401" in reason
    assert "signature" in reason  # the server's error_description
    assert MRN not in reason
    assert_nothing_secret(reason, wrong_pem)


def test_unknown_client_is_invalid_client(engine: FhirEngine, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = SmartBackendAuth("someone-else", engine.token_url, pem(rsa_key), key_id="rsa-1")

    with pytest.raises(FhirError, match="invalid_client"):
        auth.access_token()


def test_scope_not_granted_is_invalid_scope(engine: FhirEngine, rsa_key: rsa.RSAPrivateKey) -> None:
    auth = SmartBackendAuth(
        CLIENT_ID,
        engine.token_url,
        pem(rsa_key),
        key_id="rsa-1",
        scope="system/Patient.read system/Observation.write",
    )

    with pytest.raises(FhirError, match=r"400: invalid_scope: system/Observation\.write"):
        auth.access_token()


def test_token_endpoint_down_is_unavailable(engine: FhirEngine, rsa_key: rsa.RSAPrivateKey) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/auth/token"
    auth = SmartBackendAuth(CLIENT_ID, nowhere, pem(rsa_key), key_id="rsa-1", timeout=2)
    client = FhirClient(engine.base_url, auth=auth, retries=0)

    with pytest.raises(FhirUnavailable) as caught:
        client.find_patients(MRN_SYSTEM, MRN)

    assert caught.value.transient is True
    assert "token request" in caught.value.reason
    assert "ConnectionError" in caught.value.reason
    assert MRN not in caught.value.reason


def test_token_endpoint_5xx_is_unavailable(client: FhirClient, engine: FhirEngine) -> None:
    engine.fail_next(1, status=503, target="token")

    with pytest.raises(FhirUnavailable, match="503: temporarily_unavailable") as caught:
        client.find_patients(MRN_SYSTEM, MRN)
    assert_nothing_secret(caught.value.reason)

    # Nothing was cached from the failure: the next look-up gets its token.
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1


def test_nothing_secret_in_repr(auth: SmartBackendAuth, rsa_key: rsa.RSAPrivateKey) -> None:
    auth.access_token()

    text = repr(auth)
    assert CLIENT_ID in text
    assert_nothing_secret(text, pem(rsa_key))
    assert auth._token is not None and auth._token.value not in text


def test_assertion_carries_the_backend_services_claims(
    auth: SmartBackendAuth, engine: FhirEngine, rsa_key: rsa.RSAPrivateKey
) -> None:
    first, second = auth.client_assertion(), auth.client_assertion()
    header = jwt.get_unverified_header(first)
    claims = jwt.decode(
        first, rsa_key.public_key(), algorithms=["RS384"], audience=engine.token_url
    )

    assert header == {"alg": "RS384", "kid": "rsa-1", "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert time.time() < claims["exp"] <= time.time() + 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


# The peer checks assertions for real (else the tests above prove little)


def _assertion(key: Any, token_url: str, **changes: Any) -> str:
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": token_url,
        "exp": int(time.time()) + 120,
        "jti": uuid.uuid4().hex,
    }
    headers = {"kid": changes.pop("kid", "rsa-1")}
    algorithm = changes.pop("algorithm", "RS384")
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def _ask_for_token(engine: FhirEngine, assertion: str) -> requests.Response:
    return requests.post(
        engine.token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "system/Patient.read",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        timeout=10,
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"aud": "http://elsewhere/token"}, "aud"),
        ({"iss": "mallory"}, "iss"),
        ({"sub": "mallory"}, "sub"),
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"exp": int(time.time()) + 3600}, "five minutes"),
        ({"jti": None}, "jti"),
        ({"kid": "rsa-2"}, "kid"),
        ({"kid": "ec-1"}, "not for RS384"),
    ],
)
def test_peer_refuses_bad_assertions(
    engine: FhirEngine, rsa_key: rsa.RSAPrivateKey, changes: dict[str, Any], says: str
) -> None:
    response = _ask_for_token(engine, _assertion(rsa_key, engine.token_url, **changes))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert says in response.json()["error_description"]


def test_peer_refuses_unsigned_and_hmac_assertions(engine: FhirEngine) -> None:
    for key, algorithm in (
        (None, "none"),
        ("a-shared-secret-" * 4, "HS384"),
    ):
        response = _ask_for_token(engine, _assertion(key, engine.token_url, algorithm=algorithm))
        assert response.status_code == 401
        assert "is not RS384 or ES384" in response.json()["error_description"]


def test_peer_refuses_a_replayed_assertion(engine: FhirEngine, rsa_key: rsa.RSAPrivateKey) -> None:
    assertion = _assertion(rsa_key, engine.token_url)

    first = _ask_for_token(engine, assertion)
    again = _ask_for_token(engine, assertion)

    assert first.status_code == 200
    assert first.json()["token_type"] == "bearer"
    assert again.status_code == 401
    assert "used before" in again.json()["error_description"]


# Settings


@pytest.fixture
def smart_settings(
    settings: Settings, engine: FhirEngine, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> Settings:
    key_path = tmp_path / "hub-smart.pem"
    key_path.write_bytes(pem(rsa_key))
    settings.HUB_FHIR_URL = engine.base_url
    settings.HUB_FHIR_TOKEN = None
    settings.HUB_FHIR_USERNAME = None
    settings.HUB_FHIR_PASSWORD = None
    settings.HUB_FHIR_TIMEOUT = 10.0
    settings.HUB_FHIR_SMART_CLIENT_ID = CLIENT_ID
    settings.HUB_FHIR_SMART_TOKEN_URL = engine.token_url
    settings.HUB_FHIR_SMART_PRIVATE_KEY_PATH = str(key_path)
    settings.HUB_FHIR_SMART_KEY_ID = "rsa-1"
    settings.HUB_FHIR_SMART_SCOPE = None
    settings.HUB_FHIR_SMART_ALGORITHM = "RS384"
    return settings


def test_client_from_smart_settings(smart_settings: Settings) -> None:
    client = fhir_client_from_settings()

    assert client is not None
    auth = client._session.auth
    assert isinstance(auth, SmartBackendAuth)
    assert auth.scope == SMART_DEFAULT_SCOPE
    assert auth.timeout == (5.0, 10.0)
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1


def test_clients_from_settings_share_one_token(
    smart_settings: Settings, engine: FhirEngine
) -> None:
    # The hub builds a client per look-up; the token must outlive it.
    smart_settings.HUB_FHIR_SMART_SCOPE = "system/Patient.read"  # a configuration of its own
    before = engine.smart_stats()

    for _ in range(3):
        client = fhir_client_from_settings()
        assert client is not None
        with client:
            assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1

    assert counted(engine, before)["tokenRequests"] == 1


def test_smart_settings_with_an_es384_key(
    smart_settings: Settings, ec_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    key_path = tmp_path / "ec.pem"
    key_path.write_bytes(pem(ec_key))
    smart_settings.HUB_FHIR_SMART_PRIVATE_KEY_PATH = str(key_path)
    smart_settings.HUB_FHIR_SMART_KEY_ID = "ec-1"
    smart_settings.HUB_FHIR_SMART_ALGORITHM = "ES384"
    smart_settings.HUB_FHIR_SMART_SCOPE = "system/Patient.read"

    client = fhir_client_from_settings()

    assert client is not None
    assert len(client.find_patients(MRN_SYSTEM, MRN)) == 1


@pytest.mark.parametrize(
    "missing",
    ["HUB_FHIR_SMART_TOKEN_URL", "HUB_FHIR_SMART_PRIVATE_KEY_PATH", "HUB_FHIR_SMART_KEY_ID"],
)
def test_smart_settings_need_the_others(smart_settings: Settings, missing: str) -> None:
    setattr(smart_settings, missing, None)

    with pytest.raises(ImproperlyConfigured, match=f"also needs {missing}$"):
        fhir_client_from_settings()


@pytest.mark.parametrize(
    ("other", "value"), [("HUB_FHIR_TOKEN", "t0ken"), ("HUB_FHIR_USERNAME", "hub")]
)
def test_smart_settings_exclude_other_credentials(
    smart_settings: Settings, other: str, value: str
) -> None:
    setattr(smart_settings, other, value)
    smart_settings.HUB_FHIR_PASSWORD = "pw"

    with pytest.raises(ImproperlyConfigured, match="one kind of credentials only"):
        fhir_client_from_settings()


def test_smart_settings_without_client_id_are_refused(smart_settings: Settings) -> None:
    smart_settings.HUB_FHIR_SMART_CLIENT_ID = None

    with pytest.raises(ImproperlyConfigured, match="HUB_FHIR_SMART_CLIENT_ID is not"):
        fhir_client_from_settings()


def test_unreadable_key_file_is_refused(smart_settings: Settings, tmp_path: Path) -> None:
    smart_settings.HUB_FHIR_SMART_PRIVATE_KEY_PATH = str(tmp_path / "absent.pem")

    with pytest.raises(ImproperlyConfigured, match=r"absent\.pem'? cannot be read"):
        fhir_client_from_settings()


def _key_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / f"key-{uuid.uuid4().hex[:6]}.pem"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "algorithm", "says"),
    [
        (lambda: b"not a key at all", "RS384", "not a PEM private key"),
        (
            lambda: pem(generate_rsa()).replace(b"PRIVATE KEY", b"PUBLIC KEY"),
            "RS384",
            "not a PEM private key",
        ),
        (lambda: pem(generate_rsa(1024)), "RS384", "1024 bits"),
        (lambda: pem(generate_rsa()), "ES384", "P-384"),
        (lambda: pem(ec.generate_private_key(ec.SECP256R1())), "ES384", "P-384"),
        (lambda: pem(ec.generate_private_key(ec.SECP384R1())), "RS384", "RSA private key"),
        (lambda: pem(generate_rsa(), password=b"pw"), "RS384", "encrypted"),
    ],
    ids=["garbage", "mangled", "short-rsa", "rsa-for-es384", "p256", "ec-for-rs384", "encrypted"],
)
def test_unusable_key_is_refused_without_showing_it(
    smart_settings: Settings, tmp_path: Path, content: Any, algorithm: str, says: str
) -> None:
    key_pem = content()
    smart_settings.HUB_FHIR_SMART_PRIVATE_KEY_PATH = _key_file(tmp_path, key_pem)
    smart_settings.HUB_FHIR_SMART_ALGORITHM = algorithm

    with pytest.raises(ImproperlyConfigured, match=says) as caught:
        fhir_client_from_settings()
    assert "HUB_FHIR_SMART_PRIVATE_KEY_PATH" in str(caught.value)
    assert_nothing_secret(str(caught.value), key_pem)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("HUB_FHIR_SMART_ALGORITHM", "HS256", "must be one of RS384, ES384"),
        ("HUB_FHIR_SMART_TOKEN_URL", "emr.example/token", "http:// or https://"),
    ],
)
def test_bad_smart_setting_is_refused(
    smart_settings: Settings, name: str, value: str, says: str
) -> None:
    setattr(smart_settings, name, value)

    with pytest.raises(ImproperlyConfigured, match=says):
        fhir_client_from_settings()
