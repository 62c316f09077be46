"""The architecture's arrows hold: import-linter's contracts (pyproject.toml) are kept.

`make check` runs the same contracts; running them here too means a wrong-way
import fails the test suite wherever it runs, not only in CI's lint step.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_import_contract_is_kept() -> None:
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", run.stdout)
    assert kept is not None, run.stdout
    assert (int(kept[1]), int(kept[2])) == (5, 0), run.stdout


def test_no_hub_module_imports_another_hub_package_inside_a_function() -> None:
    """Function-level imports are how cycles hide; only an app's own `ready()` may."""
    hidden = []
    for path in sorted((ROOT / "hub").rglob("*.py")):
        own = path.relative_to(ROOT).parts[1] if len(path.relative_to(ROOT).parts) > 2 else None
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = re.match(r"^\s+(?:from|import) hub\.(\w+)", line)
            if found and found[1] != own:
                hidden.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hidden == []
