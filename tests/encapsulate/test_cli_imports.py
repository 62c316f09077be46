"""One camera JPEG through the command line loads only what it uses (issue 14).

highdicom (Secondary Capture, the rejection note, the SR) and fhir.resources
(the MHD Bundle) took most of the command's start-up; OpenCV is for faces
and measurement only. Each case runs ``encapsulate.__main__.main`` in a fresh
interpreter and lists the packages it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media import make_jpeg
from tests.media_photos import make_png

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("highdicom", "fhir", "cv2")


def _modules(tmp_path: Path, specialty: str, source: Path) -> tuple[set[str], str]:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"patient": {"id": "MRN-1"}, "specialty": specialty}))
    out = tmp_path / f"out-{specialty}-{source.suffix[1:]}"
    script = (
        "import json, sys\n"
        "from encapsulate.__main__ import main\n"
        f"code = main(['dicom', {str(source)!r}, '--context', {str(context)!r}, "
        f"'--out', {str(out)!r}])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stderr
    (written,) = out.iterdir()
    return set(modules), written.name


def _imported(tmp_path: Path, specialty: str, source: Path) -> tuple[set[str], str]:
    modules, written = _modules(tmp_path, specialty, source)
    return {module.split(".")[0] for module in modules} & set(HEAVY), written


def test_a_camera_jpeg_of_a_specialty_without_face_detection_loads_none_of_them(
    tmp_path: Path,
) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=640, height=480)
    heavy, written = _imported(tmp_path, "endoscopy", source)
    assert heavy == set()
    assert written.endswith(".dcm")


def test_a_camera_jpeg_does_not_load_pydicoms_concept_dictionary(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=640, height=480)
    modules, _ = _modules(tmp_path, "wound", source)
    assert "pydicom" in modules
    assert "pydicom.sr.codedict" not in modules


def test_a_wound_photo_loads_opencv_for_its_faces_only(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=640, height=480)
    heavy, _ = _imported(tmp_path, "wound", source)
    assert heavy == {"cv2"}


@pytest.mark.parametrize("specialty", ["dermoscopy", "pocus"])
def test_a_png_loads_highdicom_only_for_a_secondary_capture(tmp_path: Path, specialty: str) -> None:
    source = make_png(tmp_path / "screen.png")
    heavy, _ = _imported(tmp_path, specialty, source)
    assert ("highdicom" in heavy) is (specialty == "pocus")
    assert "fhir" not in heavy
