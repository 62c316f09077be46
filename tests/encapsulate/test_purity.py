"""encapsulate must stay a pure library (STYLE.md, 'For this project' 1)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import encapsulate

FORBIDDEN = ("django", "celery", "rest_framework", "hub", "capture_api")
ROOT = Path(__file__).resolve().parents[2]


def test_no_module_of_encapsulate_imports_the_framework() -> None:
    # Every module of every sub-package, not only the top level.
    modules = ["encapsulate"] + [
        m.name for m in pkgutil.walk_packages(encapsulate.__path__, prefix="encapsulate.")
    ]
    assert "encapsulate.context" in modules
    assert "encapsulate.video.wrap" in modules
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def test_ruff_config_bans_the_framework() -> None:
    config = (ROOT / "encapsulate" / "ruff.toml").read_text()
    assert 'extend = "../pyproject.toml"' in config
    for name in FORBIDDEN:
        assert f'"{name}".msg' in config
