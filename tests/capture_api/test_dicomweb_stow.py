"""STOW-RS at /dicom-web/studies with an unmodified client, dicomweb-client, on the live server."""

from __future__ import annotations

import hashlib
import tracemalloc
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient

from capture_api.dicomweb import multipart
from capture_api.dicomweb.multipart import iter_parts
from hub.accounts.roles import Role
from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.conftest import api_client_for
from tests.hub.delivery.photos import write_photo

pytestmark = pytest.mark.django_db(transaction=True)

REFERENCED = "ReferencedSOPSequence"
FAILED = "FailedSOPSequence"


@pytest.fixture
def token(transactional_db: None) -> str:
    return api_client_for("stow-nurse", Role.CAPTURER).token  # type: ignore[attr-defined]


def client_for(live_server, token: str | None, **params: str) -> DICOMwebClient:
    headers = {"Authorization": f"Token {token}"} if token else {}
    client = DICOMwebClient(url=f"{live_server.url}/dicom-web", headers=headers)
    return client


def photo(tmp_path: Path, name: str, **attributes: str) -> pydicom.Dataset:
    path = tmp_path / name
    write_photo(path)
    ds = pydicom.dcmread(path)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def test_instances_stored_by_dicomweb_client_become_captures_with_their_identity(
    live_server, token: str, tmp_path: Path
) -> None:
    first = photo(
        tmp_path,
        "a.dcm",
        PatientID="MRN-0042",
        PatientName="DOE^JANE",
        PatientBirthDate="19500131",
        PatientSex="F",
        AccessionNumber="ACC-7",
    )
    second = photo(tmp_path, "b.dcm", PatientID="MRN-0042")
    client = client_for(live_server, token)

    answer = client.store_instances([first, second])

    assert FAILED not in answer
    referenced = answer.ReferencedSOPSequence
    assert [item.ReferencedSOPInstanceUID for item in referenced] == [
        first.SOPInstanceUID,
        second.SOPInstanceUID,
    ]
    assert all(item.ReferencedSOPClassUID == first.SOPClassUID for item in referenced)
    captures = list(Capture.objects.order_by("created_at"))
    assert len(captures) == 2
    assert referenced[0].RetrieveURL.endswith(f"/api/v1/captures/{captures[0].id}")
    assert captures[0].mime_type == "application/dicom"
    assert captures[0].context["patient"]["id"] == "MRN-0042"
    assert captures[0].context["patient"]["name"] == "DOE^JANE"
    assert captures[0].context["patient"]["birth_date"] == "1950-01-31"
    assert captures[0].context["order"]["accession_number"] == "ACC-7"
    stored = pydicom.dcmread(data_path(captures[0].original_path))
    assert stored.SOPInstanceUID == first.SOPInstanceUID  # the part, byte for byte on disk


def test_the_specialty_query_parameter_sets_the_context(
    live_server, token: str, tmp_path: Path
) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    response = post_raw(live_server, token, [dicom_bytes(ds)], query="?specialty=wound")
    assert response.status_code == 200, response.text
    assert Capture.objects.get().context["specialty"] == "wound"


def dicom_bytes(ds: pydicom.Dataset) -> bytes:
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def post_raw(
    live_server,
    token: str | None,
    parts: list[bytes],
    *,
    query: str = "",
    content_type: str = 'multipart/related; type="application/dicom"; boundary=XyZ',
    part_type: str = "application/dicom",
) -> requests.Response:
    body = b""
    for part in parts:
        body += b"--XyZ\r\nContent-Type: " + part_type.encode() + b"\r\n\r\n" + part + b"\r\n"
    body += b"--XyZ--\r\n"
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Token {token}"
    return requests.post(
        f"{live_server.url}/dicom-web/studies{query}", data=body, headers=headers, timeout=30
    )


def test_a_part_that_is_not_dicom_is_a_failed_sop_entry_and_202(
    live_server, token: str, tmp_path: Path
) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    response = post_raw(live_server, token, [dicom_bytes(ds), b"not a DICOM file at all"])

    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"] == "application/dicom+json"
    answer = pydicom.Dataset.from_json(response.json())
    assert [i.ReferencedSOPInstanceUID for i in answer.ReferencedSOPSequence] == [ds.SOPInstanceUID]
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0xC000]
    assert Capture.objects.count() == 1


def test_an_instance_stored_again_is_the_same_capture(
    live_server, token: str, tmp_path: Path
) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    client = client_for(live_server, token)

    first = client.store_instances([ds])
    again = client.store_instances([ds])  # the client never saw the first answer

    capture = Capture.objects.get()
    for answer in (first, again):
        assert FAILED not in answer
        [item] = answer.ReferencedSOPSequence
        assert item.RetrieveURL.endswith(f"/api/v1/captures/{capture.id}")


def test_other_content_under_a_stored_instance_uid_is_a_duplicate_failure(
    live_server, token: str, tmp_path: Path
) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    assert post_raw(live_server, token, [dicom_bytes(ds)]).status_code == 200
    ds.PatientID = "MRN-0043"  # same SOP Instance UID, other bytes

    response = post_raw(live_server, token, [dicom_bytes(ds)])

    assert response.status_code == 409, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0x0111]
    assert Capture.objects.get().context["patient"]["id"] == "MRN-0042"


def test_nothing_stored_is_409_with_a_reason_per_part(
    live_server, token: str, tmp_path: Path
) -> None:
    ct = photo(tmp_path, "ct.dcm", PatientID="MRN-0042")
    ct.SOPClassUID = ct.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT
    response = post_raw(live_server, token, [b"garbage", dicom_bytes(ct)])

    assert response.status_code == 409, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert REFERENCED not in answer
    assert [i.FailureReason for i in answer.FailedSOPSequence] == [0xC000, 0x0122]
    assert answer.FailedSOPSequence[1].ReferencedSOPInstanceUID == ct.SOPInstanceUID
    assert Capture.objects.count() == 0


def test_dicomweb_client_sees_a_refusal_as_an_error(
    live_server, token: str, tmp_path: Path
) -> None:
    ds = photo(tmp_path, "a.dcm")
    del ds.PatientID
    with pytest.raises(requests.HTTPError) as error:
        client_for(live_server, token).store_instances([ds])
    assert error.value.response.status_code == 409
    answer = pydicom.Dataset.from_json(error.value.response.json())
    assert answer.FailedSOPSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID


def test_no_token_is_401_in_the_envelope(live_server, tmp_path: Path) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    response = post_raw(live_server, None, [dicom_bytes(ds)])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["field"] == "Authorization"
    assert Capture.objects.count() == 0


def test_a_wrong_media_type_is_415(live_server, token: str) -> None:
    response = post_raw(
        live_server,
        token,
        [b"{}"],
        content_type='multipart/related; type="application/pdf"; boundary=XyZ',
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "content_type_unsupported"
    response = post_raw(live_server, token, [b"x"], content_type="application/dicom")
    assert response.status_code == 415


def test_an_unknown_specialty_is_400(live_server, token: str, tmp_path: Path) -> None:
    ds = photo(tmp_path, "a.dcm", PatientID="MRN-0042")
    response = post_raw(live_server, token, [dicom_bytes(ds)], query="?specialty=cardiology")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "specialty"


def test_a_large_part_is_spooled_in_bounded_memory(tmp_path: Path) -> None:
    """A 20 MB part reaches its file while the parser holds a few chunks at most."""

    class Body:
        def __init__(self) -> None:
            self.pieces = [b"preamble\r\n--B\r\nContent-Type: application/dicom\r\n\r\n"]
            self.pieces += [b"\x00\r\n-" * 100_000] * 50  # near-delimiters throughout
            self.pieces += [b"\r\n--B--\r\n"]

        def read(self, size: int) -> bytes:
            return self.pieces.pop(0) if self.pieces else b""

    spool = tmp_path / "spool"
    spool.mkdir()
    tracemalloc.start()
    try:
        parts = list(iter_parts(Body(), "B", spool))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000
    assert len(parts) == 1
    assert parts[0].size == 50 * 400_000
    assert parts[0].content_type == "application/dicom"


@pytest.mark.parametrize("chunk", [1, 3, 7, 64 * 1024])
def test_parts_split_anywhere_across_reads_come_out_whole(
    tmp_path: Path, monkeypatch, chunk: int
) -> None:
    monkeypatch.setattr(multipart, "CHUNK", chunk)
    one, two = b"first\r\n--Y not it\r\n--", b"\r\nsecond"
    body = (
        b"--X\r\nContent-Type: application/dicom\r\nContent-Location: a\r\n\r\n"
        + one
        + b"\r\n--X\r\n\r\n"
        + two
        + b"\r\n--X--\r\nepilogue"
    )
    parts = list(iter_parts(BytesIO(body), "X", tmp_path))
    assert [p.path.read_bytes() for p in parts] == [one, two]
    assert [p.sha256 for p in parts] == [hashlib.sha256(b).hexdigest() for b in (one, two)]
    assert parts[0].headers["content-location"] == "a"
    assert parts[1].headers == {}


def test_a_body_cut_inside_a_part_is_malformed(tmp_path: Path) -> None:
    with pytest.raises(multipart.MultipartError):
        list(iter_parts(BytesIO(b"--X\r\n\r\nno end"), "X", tmp_path))
