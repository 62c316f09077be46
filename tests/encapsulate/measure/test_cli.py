"""``python -m encapsulate measure`` and ``marker-sheet``: one JSON object, exit codes, reasons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from encapsulate.measure.sheet import marker_sheet_pdf, marker_sheet_svg
from tests.encapsulate.measure.conftest import scene

ROOT = Path(__file__).resolve().parents[3]
KEYS = {
    "area_cm2",
    "length_cm",
    "width_cm",
    "perimeter_cm",
    "mm_per_px",
    "method",
    "marker",
    "outline",
    "view_angle_deg",
    "photo",
}


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "HUB_MARKER_MM"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "encapsulate", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("measure") / "wound.jpg"
    path.write_bytes(scene(tilt_deg=20.0).jpeg(quality=90))
    return path


def test_measure_with_outline_prints_one_json_object(photo: Path, tmp_path: Path) -> None:
    shot = scene(tilt_deg=20.0)
    outline = tmp_path / "outline.json"
    outline.write_text(json.dumps({"points": shot.outline.tolist()}))
    done = _run("measure", photo, "--outline", outline)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == KEYS
    assert result["method"] == "outline"
    assert result["area_cm2"] == pytest.approx(shot.area_cm2, rel=0.02)
    assert result["marker"]["dictionary"] == "DICT_4X4_50"
    assert result["marker"]["id"] == 7
    assert len(result["marker"]["corners"]) == 4
    assert len(result["outline"]) == len(shot.outline)


def test_measure_without_outline_says_auto(photo: Path) -> None:
    done = _run("measure", photo)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["method"] == "auto"
    assert result["area_cm2"] == pytest.approx(scene(tilt_deg=20.0).area_cm2, rel=0.10)


def test_marker_size_from_the_flag_then_the_environment(photo: Path) -> None:
    default = json.loads(_run("measure", photo).stdout)["area_cm2"]
    flagged = json.loads(_run("measure", photo, "--marker-mm", "40").stdout)["area_cm2"]
    from_env = json.loads(_run("measure", photo, env={"HUB_MARKER_MM": "40"}).stdout)["area_cm2"]
    assert flagged == pytest.approx(4 * default, rel=1e-3)
    assert from_env == flagged


def test_refusal_exits_2_with_one_line_reason(tmp_path: Path) -> None:
    shot = scene()
    blank = tmp_path / "no_marker.jpg"
    from PIL import Image

    Image.fromarray(shot.image[:, :300]).save(blank)
    done = _run("measure", blank)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: no calibration marker")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [("not json", "not valid JSON"), ('{"pts": []}', '{"points"'), ('{"points": [[0, 0]]}', "3")],
)
def test_bad_outline_file_exits_2(photo: Path, tmp_path: Path, content: str, reason: str) -> None:
    outline = tmp_path / "outline.json"
    outline.write_text(content)
    done = _run("measure", photo, "--outline", outline)
    assert done.returncode == 2
    assert reason in done.stderr


def test_outline_and_tap_point_exclude_each_other(photo: Path, tmp_path: Path) -> None:
    outline = tmp_path / "outline.json"
    outline.write_text(json.dumps({"points": scene(tilt_deg=20.0).outline.tolist()}))
    done = _run("measure", photo, "--outline", outline, "--at", "400,300")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_tapped_point_outlines_from_there(photo: Path) -> None:
    x, y = scene(tilt_deg=20.0).wound_centre
    done = _run("measure", photo, "--at", f"{x + 10:.0f},{y - 5:.0f}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["method"] == "auto"


def test_bad_marker_size_in_the_environment_exits_2(photo: Path) -> None:
    done = _run("measure", photo, env={"HUB_MARKER_MM": "twenty"})
    assert done.returncode == 2
    assert "HUB_MARKER_MM" in done.stderr


def test_marker_sheet_writes_an_a4_pdf_and_the_svg(tmp_path: Path) -> None:
    assert _run("marker-sheet", "--out", tmp_path / "sheet.pdf").returncode == 0
    page = PdfReader(tmp_path / "sheet.pdf").pages[0]
    width_mm = float(page.mediabox.width) * 25.4 / 72
    height_mm = float(page.mediabox.height) * 25.4 / 72
    assert (round(width_mm, 1), round(height_mm, 1)) == (210.0, 297.0)
    assert "Print at 100 %" in page.extract_text()
    assert _run("marker-sheet", "--out", tmp_path / "sheet.svg").returncode == 0
    assert (tmp_path / "sheet.svg").read_text() == marker_sheet_svg()


def test_committed_marker_sheets_are_the_generated_ones() -> None:
    svg = ROOT / "docs" / "wound-marker-sheet-20mm.svg"
    pdf = ROOT / "docs" / "wound-marker-sheet-20mm.pdf"
    assert svg.read_text(encoding="utf-8") == marker_sheet_svg(marker_mm=20.0)
    assert pdf.read_bytes() == marker_sheet_pdf(marker_mm=20.0)


def test_cli_and_package_load_opencv_only_when_measuring() -> None:
    script = (
        "import sys, encapsulate.__main__, encapsulate.measure as m\n"
        "before = 'cv2' in sys.modules\n"
        "names = [getattr(m, name) for name in m.__all__]\n"
        "print(before, 'cv2' in sys.modules, len(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True", "10"]
