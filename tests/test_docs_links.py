"""Every link between the project's own Markdown files reaches a file (and heading) that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def _markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if "node_modules" not in name]


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.+)$", FENCE.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def _dead_links(path: Path) -> list[str]:
    dead = []
    for target in LINK.findall(FENCE.sub("", path.read_text())):
        if re.match(r"^[a-z]+:", target) or target.startswith("/"):
            continue  # a URL, or a path on the running hub
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.name} -> {target}"
        if not linked.exists():
            dead.append(where)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text()):
            dead.append(f"{where} (no such heading)")
    return dead


def test_the_project_has_markdown_to_check() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in _markdown_files()}
    assert {"README.md", "docs/architecture.md"} <= names


def test_no_link_between_the_project_documents_is_dead() -> None:
    dead = [link for path in _markdown_files() for link in _dead_links(path)]
    assert dead == []


def test_a_dead_file_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Real heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#real-heading) [gone](missing.md) [no heading](other.md#nowhere)\n"
        "```\n[in a code block](ignored.md)\n```\n"
    )
    assert _dead_links(page) == [
        "page.md -> missing.md",
        "page.md -> other.md#nowhere (no such heading)",
    ]
