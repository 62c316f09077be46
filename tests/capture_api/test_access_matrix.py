"""Deny by default: every endpoint x every role x own / someone else's object, as a matrix.

A cell is a grant when the answer is anything but a refusal (401, 403, or the
404 that hides another's object): a 400 for an empty body has passed the
access check. The test fails on any grant the matrix does not list, on any
refusal of a listed grant, and on any API route or method the matrix lacks,
so a new endpoint is refused until someone decides who may call it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from capture_api.tus.service import upload_create
from hub.accounts.devices import device_create
from hub.accounts.models import HubToken, TokenKind
from hub.accounts.roles import Role
from hub.accounts.tokens import token_issue
from hub.captures.models import Capture
from hub.captures.receive import Upload, capture_receive
from hub.captures.sessions import session_open
from hub.wounds.services import capture_wound
from tests.capture_api.tus_helpers import OCTETS, TUS, metadata_header
from tests.conftest import api_client_for
from tests.media import make_jpeg

ROLES = ("anonymous", "capturer", "device", "operator", "admin")
PEOPLE = {"capturer", "operator", "admin"}
SIGNED_IN = PEOPLE | {"device"}
EVERYONE = set(ROLES)
OWN, OTHERS, NONE = "own", "other's", "-"


@dataclass(frozen=True)
class Cell:
    route: str  # the route as capture_api.urls names it
    method: str
    whose: str  # OWN / OTHERS for object endpoints, NONE otherwise
    granted: frozenset[str]
    hides_with_404: bool = False  # a refusal of another's object is a 404, not a 403


def cells(route: str, method: str, granted: set[str], *, own: set[str] | None = None) -> list[Cell]:
    """One cell, or an own/other's pair when `own` (the roles granted their own object) is given."""
    if own is None:
        return [Cell(route, method, NONE, frozenset(granted))]
    return [
        Cell(route, method, OWN, frozenset(own), hides_with_404=True),
        Cell(route, method, OTHERS, frozenset(granted), hides_with_404=True),
    ]


MATRIX: list[Cell] = [
    *cells("api/v1/auth/token", "post", EVERYONE),
    *cells("api/v1/devices/enroll", "post", EVERYONE),
    *cells("api/v1/audit", "get", {"admin"}),
    *cells("api/v1/auth/tokens", "get", PEOPLE),
    *cells("api/v1/auth/tokens/<str:token_key>", "delete", {"admin"}, own=PEOPLE),
    *cells("api/v1/captures", "get", SIGNED_IN),
    *cells("api/v1/captures", "post", SIGNED_IN),
    *cells("api/v1/captures/<str:pk>", "get", {"operator", "admin"}, own=SIGNED_IN),
    *cells("api/v1/sessions", "post", SIGNED_IN),
    *cells("api/v1/sessions/<str:pk>", "get", {"operator", "admin"}, own=SIGNED_IN),
    *cells("api/v1/patients/search", "post", PEOPLE),
    *cells("api/v1/patients/orders", "post", PEOPLE),
    *cells("api/v1/patients/encounters", "post", PEOPLE),
    *cells("api/v1/patients/wounds", "post", PEOPLE),
    *cells("api/v1/wounds/<str:wound_id>/thumbnail", "get", PEOPLE),
    *cells("api/v1/uploads", "post", SIGNED_IN),
    *cells("api/v1/uploads/", "post", SIGNED_IN),
    *cells("api/v1/uploads/", "options", EVERYONE),
    *cells("api/v1/uploads/<str:upload_id>", "head", set(), own=SIGNED_IN),
    *cells("api/v1/uploads/<str:upload_id>", "patch", set(), own=SIGNED_IN),
    *cells("api/v1/uploads/<str:upload_id>", "delete", set(), own=SIGNED_IN),
    *cells("api/schema/", "get", EVERYONE),
    *cells("api/docs/", "get", EVERYONE),
]

pytestmark = pytest.mark.django_db


def api_routes() -> set[tuple[str, str]]:
    """Every (route, method) the API answers, read from the URLconf and the views."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                view = pattern.callback.view_class  # type: ignore[attr-defined]
                for method in ("get", "post", "put", "patch", "delete", "head"):
                    if callable(getattr(view, method, None)):
                        found.add((route, method))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_matrix_names_every_route_and_method_of_the_api() -> None:
    listed = {(cell.route, cell.method) for cell in MATRIX if cell.method != "options"}
    assert api_routes() == listed


@dataclass
class World:
    clients: dict[str, APIClient]
    users: dict[str, object]
    someone: object  # a capturer whose objects are "other's" to everyone else


def photo_bytes(tmp_path: Path) -> bytes:
    return make_jpeg(tmp_path / "p.jpg", width=32, height=24).read_bytes()


@pytest.fixture
def world(private_data_dir: Path, settings) -> World:
    settings.HUB_FHIR_URL = None  # a granted look-up answers 501; a refused one 401/403
    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    for role in ("capturer", "operator", "admin"):
        clients[role] = api_client_for(f"user-{role}", Role(role))
    device = device_create(name="tower-1", created_by=None)
    _, key = token_issue(user=device.user, kind=TokenKind.DEVICE, device=device)
    clients["device"] = APIClient()
    clients["device"].credentials(HTTP_AUTHORIZATION=f"Token {key}")
    clients["device"].user = device.user  # type: ignore[attr-defined]
    someone = api_client_for("someone", Role.CAPTURER).user  # type: ignore[attr-defined]
    users = {role: getattr(client, "user", None) for role, client in clients.items()}
    return World(clients=clients, users=users, someone=someone)


def object_of(cell: Cell, world: World, role: str, tmp_path: Path) -> str:
    """The id the request names: the role's own object, someone else's, or none."""
    owner = world.someone if cell.whose == OTHERS or role == "anonymous" else world.users[role]
    if cell.route.startswith("api/v1/captures/"):
        photo = photo_bytes(tmp_path)
        return str(
            capture_receive(
                user=owner,
                upload=Upload(name="p.jpg", size=len(photo), head=photo, chunks=[photo]),
                context_data={"patient": {"id": "MRN-1"}},
                max_bytes=10**9,
            ).capture.id
        )
    if cell.route.startswith("api/v1/wounds/<"):
        photo = photo_bytes(tmp_path)
        capture = capture_receive(
            user=owner,
            upload=Upload(name="p.jpg", size=len(photo), head=photo, chunks=[photo]),
            context_data={"patient": {"id": "MRN-1"}, "specialty": "wound"},
            max_bytes=10**9,
        ).capture
        return f"{capture_wound(capture=capture).id}/thumbnail"
    if cell.route.startswith("api/v1/sessions/"):
        return str(session_open(user=owner).id)
    if cell.route.startswith("api/v1/uploads/<"):
        return upload_create(owner=owner, length=10, metadata=metadata_header(), max_bytes=10**9).id
    if cell.route.startswith("api/v1/auth/tokens/"):
        token, _ = token_issue(user=owner, name="to revoke")
        return token.token_key
    return ""


def call(client: APIClient, cell: Cell, object_id: str, tmp_path: Path):
    path = "/" + cell.route.split("<")[0] + object_id
    if cell.route == "api/v1/captures" and cell.method == "post":
        return client.post(path, {"context": json.dumps({"patient": {"id": "MRN-1"}})})
    if cell.route.startswith("api/v1/uploads"):
        headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata_header()}
        if cell.method == "patch":
            return client.generic(
                "PATCH", path, b"0123456789", content_type=OCTETS,
                headers={**TUS, "Upload-Offset": "0"},
            )  # fmt: skip
        return getattr(client, cell.method)(path, headers=headers)
    if cell.method == "post":
        return client.post(path, {}, format="json")
    return getattr(client, cell.method)(path)


CASES = [(cell, role) for cell in MATRIX for role in ROLES]


@pytest.mark.parametrize(
    ("cell", "role"),
    CASES,
    ids=[f"{c.method.upper()} {c.route} [{c.whose}] as {r}" for c, r in CASES],
)
def test_access_is_exactly_what_the_matrix_grants(
    world: World, cell: Cell, role: str, tmp_path: Path
) -> None:
    object_id = object_of(cell, world, role, tmp_path)
    response = call(world.clients[role], cell, object_id, tmp_path)

    refusals = {401, 403} | ({404} if cell.hides_with_404 else set())
    granted = response.status_code not in refusals
    expected = role in cell.granted
    assert granted == expected, (response.status_code, getattr(response, "content", b"")[:300])
    if cell.route.startswith(("api/v1/captures/", "api/v1/sessions/")) and granted:
        assert response.json()["id"] == object_id
    if not granted and role == "anonymous":
        assert response.status_code == 401


def test_the_matrix_size() -> None:
    # For the report: every cell is one request above.
    assert len(CASES) == len(MATRIX) * len(ROLES)
    assert not HubToken.objects.exists() and not Capture.objects.exists()
