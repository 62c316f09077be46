"""``python -m encapsulate``: paths on stdout, or exit 2 with one line on stderr."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydicom
import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors
from tests.media import make_jpeg, make_text_as_jpg, make_truncated_jpeg
from tests.media_documents import AUTHOR, make_pdf, make_us_image

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "encapsulate", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _context_file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "context.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_dicom_prints_the_written_paths(tmp_path: Path, context_json: dict[str, Any]) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=320, height=240, orientation=6)
    out = tmp_path / "out"
    done = _run("dicom", source, "--context", _context_file(tmp_path, context_json), "--out", out)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    written = Path(line)
    assert written.parent == out and written.suffix == ".dcm"
    assert dciodvfy_errors(written) == []
    assert pydicom.dcmread(written).PatientID == "MRN-0042"


def test_order_study_uid_is_used(tmp_path: Path, context_json: dict[str, Any]) -> None:
    context_json["order"]["study_instance_uid"] = "1.2.3.4.5"
    source = make_jpeg(tmp_path / "photo.jpg", width=64, height=48)
    out = tmp_path / "out"
    done = _run("dicom", source, "--context", _context_file(tmp_path, context_json), "--out", out)
    assert done.returncode == 0, done.stderr
    assert pydicom.dcmread(done.stdout.strip()).StudyInstanceUID == "1.2.3.4.5"


def test_inspect_prints_json(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=320, height=240, orientation=8)
    done = _run("inspect", source)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["orientation"], info["upright_rows"], info["upright_columns"]) == (8, 320, 240)


@pytest.mark.parametrize(
    ("make_input", "context", "reason"),
    [
        (lambda p: p.write_bytes(b"") and p, None, "error: the file is empty"),
        (lambda p: make_truncated_jpeg(p), None, "error: the JPEG is truncated"),
        (lambda p: make_text_as_jpg(p), None, "error: the file is text"),
        (
            lambda p: make_jpeg(p, width=64, height=48),
            '{"patient": {"id": "M1"},',
            "error: the context file is not valid JSON",
        ),
        (
            lambda p: make_jpeg(p, width=64, height=48),
            {"patient": {}},
            "error: context.patient.id is required",
        ),
        (
            lambda p: make_jpeg(p, width=64, height=48),
            {"patient": {"id": "M1"}, "specialty": "cardio"},
            "error: context.specialty must be one of",
        ),
    ],
    ids=["empty", "truncated", "text", "bad-json", "no-patient-id", "bad-specialty"],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, context_json: dict[str, Any], make_input, context: Any, reason: str
) -> None:
    source = tmp_path / "photo.jpg"
    make_input(source)
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.dcm").write_bytes(b"keep me")
    context_path = _context_file(tmp_path, context if context is not None else context_json)
    done = _run("dicom", source, "--context", context_path, "--out", out)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(reason)
    assert sorted(p.name for p in out.iterdir()) == ["earlier.dcm"]


def test_missing_out_dir_is_not_left_behind(tmp_path: Path, context_json: dict[str, Any]) -> None:
    source = make_truncated_jpeg(tmp_path / "cut.jpg")
    out = tmp_path / "new" / "out"
    done = _run("dicom", source, "--context", _context_file(tmp_path, context_json), "--out", out)
    assert done.returncode == 2
    assert not out.exists()


def test_several_inputs_share_a_study(tmp_path: Path, context_json: dict[str, Any]) -> None:
    pdf = make_pdf(tmp_path / "plan.pdf")
    device = make_us_image(tmp_path / "probe.dcm")
    out = tmp_path / "out"
    done = _run(
        "dicom", pdf, device, "--context", _context_file(tmp_path, context_json), "--out", out
    )
    assert done.returncode == 0, done.stderr
    paths = [Path(line) for line in done.stdout.splitlines()]
    assert len(paths) == 2 and all(p.parent == out for p in paths)
    written = [pydicom.dcmread(p) for p in paths]
    assert written[0].Modality == "DOC"
    assert written[1].SOPInstanceUID == pydicom.dcmread(device).SOPInstanceUID
    assert all(ds.PatientID == "MRN-0042" for ds in written)
    assert dciodvfy_errors(paths[0]) == []


def test_several_inputs_are_all_or_nothing(tmp_path: Path, context_json: dict[str, Any]) -> None:
    good = make_pdf(tmp_path / "plan.pdf")
    bad = make_pdf(tmp_path / "evil.pdf", javascript=True)
    out = tmp_path / "out"
    out.mkdir()
    context = _context_file(tmp_path, context_json)
    done = _run("dicom", good, bad, "--context", context, "--out", out)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the PDF contains JavaScript")
    assert list(out.iterdir()) == []


def test_xds_writes_originals_and_bundles(tmp_path: Path, context_json: dict[str, Any]) -> None:
    pdf = make_pdf(tmp_path / "plan.pdf")
    photo = make_jpeg(tmp_path / "wound.jpg", width=64, height=48)
    out = tmp_path / "out"
    context = _context_file(tmp_path, context_json)
    done = _run("xds", pdf, photo, "--context", context, "--out", out)
    assert done.returncode == 0, done.stderr
    names = [Path(line).name for line in done.stdout.splitlines()]
    assert names == ["plan.pdf", "plan.bundle.json", "wound.jpg", "wound.bundle.json"]
    for stem, original in (("plan", "plan.pdf"), ("wound", "wound.jpg")):
        bundle = json.loads((out / f"{stem}.bundle.json").read_text())
        Bundle.model_validate(bundle)
        data = (out / original).read_bytes()
        [document] = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DocumentReference"
        ]
        attachment = document["content"][0]["attachment"]
        assert attachment["size"] == len(data)
        assert base64.b64decode(attachment["hash"]) == hashlib.sha1(data).digest()
    assert AUTHOR.encode() not in (out / "plan.pdf").read_bytes()
    assert_no_private_metadata((out / "wound.jpg").read_bytes())


def test_xds_refuses_what_it_cannot_scrub(tmp_path: Path, context_json: dict[str, Any]) -> None:
    device = make_us_image(tmp_path / "probe.dcm")
    out = tmp_path / "out"
    done = _run("xds", device, "--context", _context_file(tmp_path, context_json), "--out", out)
    assert done.returncode == 2
    assert done.stderr.startswith("error: application/dicom originals cannot be delivered")
    assert not out.exists()


def test_inspect_several_prints_an_array(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "plan.pdf", pages=3)
    device = make_us_image(tmp_path / "probe.dcm")
    done = _run("inspect", pdf, device)
    assert done.returncode == 0, done.stderr
    infos = json.loads(done.stdout)
    assert [(i["path"], i["kind"]) for i in infos] == [
        (str(pdf), "document"),
        (str(device), "dicom"),
    ]
    assert infos[0]["pages"] == 3
