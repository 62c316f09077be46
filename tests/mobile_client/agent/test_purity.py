"""The agent talks to the hub over HTTP only: it imports nothing of the hub (DESIGN.md)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import mobile_client.agent

FORBIDDEN = ("django", "celery", "rest_framework", "hub", "capture_api", "encapsulate")
ROOT = Path(__file__).resolve().parents[3]


def test_no_module_of_the_agent_imports_the_hub() -> None:
    modules = ["mobile_client.agent"] + [
        f"mobile_client.agent.{m.name}"
        for m in pkgutil.iter_modules(mobile_client.agent.__path__)
        if m.name != "__main__"
    ]
    assert "mobile_client.agent.courier" in modules
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


def test_ruff_config_bans_the_hub() -> None:
    config = (ROOT / "mobile_client" / "agent" / "ruff.toml").read_text()
    assert 'extend = "../../pyproject.toml"' in config
    for name in FORBIDDEN:
        assert f'"{name}".msg' in config


def test_the_command_line_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mobile_client.agent", "profiles"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "endoscopy-tower: endoscopy" in done.stdout
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "mobile_client.agent",
            "watch",
            str(ROOT / "nowhere"),
            "--hub",
            "http://127.0.0.1:9",
            "--token",
            "t",
            "--profile",
            "nope",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: no profile 'nope'")
