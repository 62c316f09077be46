"""The IHE WIC form of STOW-RS: DICOM JSON metadata plus bulk data, built by the test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pydicom
import pytest
import requests

from hub.accounts.roles import Role
from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.conftest import api_client_for
from tests.media import make_jpeg
from tests.media_documents import make_pdf

pytestmark = pytest.mark.django_db(transaction=True)

VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
VL_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
BOUNDARY = "wic-boundary-7"
WIC_TYPE = f'multipart/related; type="application/dicom+json"; boundary={BOUNDARY}'


@pytest.fixture
def token(transactional_db: None) -> str:
    return api_client_for("wic-nurse", Role.CAPTURER).token  # type: ignore[attr-defined]


def dataset(sop_class: str, bulk_uri: str, *, bulk_tag: str = "7FE00010", **extra: dict) -> dict:
    item = {
        "00080016": {"vr": "UI", "Value": [sop_class]},
        "00080018": {"vr": "UI", "Value": ["2.25.1234567890" + str(abs(hash(bulk_uri)) % 10**8)]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]},
        "00100020": {"vr": "LO", "Value": ["MRN-0042"]},
        "00100030": {"vr": "DA", "Value": ["19500131"]},
        "00100040": {"vr": "CS", "Value": ["F"]},
        "00080050": {"vr": "SH", "Value": ["ACC-7"]},
        bulk_tag: {"vr": "OB", "BulkDataURI": bulk_uri},
    }
    item.update(extra)
    return item


LOWER_LEG_LEFT = {
    "00082218": {
        "vr": "SQ",
        "Value": [
            {
                "00080100": {"vr": "SH", "Value": ["30021000"]},
                "00080102": {"vr": "SH", "Value": ["SCT"]},
                "00080104": {"vr": "LO", "Value": ["Lower leg"]},
            }
        ],
    },
    "00200062": {"vr": "CS", "Value": ["L"]},
}


def post_parts(
    live_server,
    token: str | None,
    parts: list[tuple[dict[str, str], bytes]],
    *,
    root_type: str = "application/dicom+json",
    path: str = "/dicom-web/studies",
    query: str = "",
) -> requests.Response:
    """A multipart/related request of `parts` (headers, body), as a WIC client sends it."""
    body = b""
    for headers, content in parts:
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        body += f"--{BOUNDARY}\r\n{lines}\r\n".encode() + content + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    headers = {"Content-Type": f'multipart/related; type="{root_type}"; boundary={BOUNDARY}'}
    if token:
        headers["Authorization"] = f"Token {token}"
    return requests.post(f"{live_server.url}{path}{query}", data=body, headers=headers, timeout=60)


def bulk_part(location: str, media_type: str, content: bytes) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": media_type, "Content-Location": location}, content


def post_wic(
    live_server,
    token: str | None,
    metadata: list[dict],
    bulk: list[tuple[str, str, bytes]],
    *,
    query: str = "",
    metadata_last: bool = False,
    path: str = "/dicom-web/studies",
) -> requests.Response:
    meta = ({"Content-Type": "application/dicom+json"}, json.dumps(metadata).encode())
    parts = [bulk_part(*item) for item in bulk]
    parts = [*parts, meta] if metadata_last else [meta, *parts]
    return post_parts(live_server, token, parts, path=path, query=query)


def test_metadata_and_bulk_jpeg_and_pdf_become_captures_with_the_metadata_context(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    photo_uri, pdf_uri = "http://client/bulk/photo", "http://client/bulk/report"
    metadata = [
        dataset(VL_PHOTO, photo_uri, **LOWER_LEG_LEFT),
        dataset(ENCAPSULATED_PDF, pdf_uri, bulk_tag="00420011"),
    ]

    response = post_wic(
        live_server,
        token,
        metadata,
        # In the other order than the metadata, and after it: matched by Content-Location.
        [(pdf_uri, "application/pdf", pdf), (photo_uri, "image/jpeg", jpeg)],
        query="?specialty=wound",
        metadata_last=True,
    )

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/dicom+json"
    answer = pydicom.Dataset.from_json(response.json())
    assert "FailedSOPSequence" not in answer
    photo = Capture.objects.get(mime_type="image/jpeg")
    report = Capture.objects.get(mime_type="application/pdf")
    assert data_path(photo.original_path).read_bytes() == jpeg
    assert data_path(report.original_path).read_bytes() == pdf
    assert [i.ReferencedSOPInstanceUID for i in answer.ReferencedSOPSequence] == [
        photo.sop_instance_uid,
        report.sop_instance_uid,
    ]
    # The hub's own instances, not the client's UIDs: said by Warning Reason B000.
    assert all(i.WarningReason == 0xB000 for i in answer.ReferencedSOPSequence)
    context = photo.context
    assert context["patient"]["id"] == "MRN-0042"
    assert context["patient"]["name"] == "DOE^JANE"
    assert context["patient"]["birth_date"] == "1950-01-31"
    assert context["order"]["accession_number"] == "ACC-7"
    assert context["specialty"] == "wound"
    assert context["body_site"]["code"] == "SCT:30021000"
    assert context["body_site"]["laterality"] == "L"


def test_the_sop_class_gives_the_specialty_when_the_query_does_not(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    response = post_wic(
        live_server, token, [dataset(VL_ENDOSCOPIC, "bulk/1")], [("bulk/1", "image/jpeg", jpeg)]
    )
    assert response.status_code == 200, response.text
    assert Capture.objects.get().context["specialty"] == "endoscopy"


def test_a_missing_bulk_part_and_an_unsupported_class_fail_alone_with_202(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    metadata = [
        dataset(VL_PHOTO, "bulk/1"),
        dataset(VL_PHOTO, "bulk/absent"),
        dataset(CT, "bulk/1"),
    ]
    response = post_wic(live_server, token, metadata, [("bulk/1", "image/jpeg", jpeg)])

    assert response.status_code == 202, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert len(answer.ReferencedSOPSequence) == 1
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0xC000, 0x0122]
    assert (
        answer.FailedSOPSequence[0].ReferencedSOPInstanceUID == metadata[1]["00080018"]["Value"][0]
    )
    assert Capture.objects.count() == 1


def test_bulk_that_is_not_its_declared_media_is_refused_and_409(live_server, token: str) -> None:
    response = post_wic(
        live_server,
        token,
        [dataset(VL_PHOTO, "bulk/1")],
        [("bulk/1", "image/jpeg", b"this is no JPEG")],
    )
    assert response.status_code == 409, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0xC000]
    assert Capture.objects.count() == 0


def test_metadata_that_is_not_json_is_400_in_the_envelope(live_server, token: str) -> None:
    body = (
        f"--{BOUNDARY}\r\nContent-Type: application/dicom+json\r\n\r\n{{nope\r\n--{BOUNDARY}--\r\n"
    )
    response = requests.post(
        f"{live_server.url}/dicom-web/studies",
        data=body.encode(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": WIC_TYPE,
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_bulk_part_becomes_the_original_once_and_is_one_datasets_media(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    response = post_wic(
        live_server,
        token,
        [dataset(VL_PHOTO, "bulk/1"), dataset(VL_ENDOSCOPIC, "bulk/1")],
        [("bulk/1", "image/jpeg", jpeg)],
    )

    assert response.status_code == 202, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0xC000]
    capture = Capture.objects.get()
    # The sha256 taken while spooling is the stored original's (moved there, not copied).
    assert capture.original_sha256 == hashlib.sha256(jpeg).hexdigest()
    assert hashlib.sha256(data_path(capture.original_path).read_bytes()).hexdigest() == (
        capture.original_sha256
    )


def test_the_metadata_gives_when_the_media_was_taken_with_its_utc_offset(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    content = {
        "00080023": {"vr": "DA", "Value": ["20261128"]},
        "00080033": {"vr": "TM", "Value": ["101500.25"]},
        "00080201": {"vr": "SH", "Value": ["+0100"]},
    }
    acquisition = {"0008002A": {"vr": "DT", "Value": ["20261127093000-0500"]}}
    no_zone = {"0008002A": {"vr": "DT", "Value": ["20261127093000"]}}
    metadata = [
        dataset(VL_PHOTO, "bulk/1", **content),
        dataset(VL_PHOTO, "bulk/2", **acquisition),
        dataset(VL_PHOTO, "bulk/3", **no_zone),
    ]
    bulk = [(f"bulk/{n}", "image/jpeg", jpeg) for n in (1, 2, 3)]

    response = post_wic(live_server, token, metadata, bulk)

    assert response.status_code == 200, response.text
    taken = [c.context.get("captured_at") for c in Capture.objects.order_by("created_at")]
    assert taken == ["2026-11-28T10:15:00+01:00", "2026-11-27T09:30:00-05:00", None]
