"""Running the agent as a process of its own, and reading its JSON-lines log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


class AgentProcess:
    def __init__(
        self,
        folder: Path,
        *,
        hub: str,
        token: str,
        state: Path,
        profile: str,
        extra: tuple[str, ...] = (),
        label: str = "agent",
    ) -> None:
        self.log = state.parent / f"{label}.log.jsonl"
        self.arguments = [
            sys.executable, "-m", "mobile_client.agent", "watch", str(folder),
            "--hub", hub, "--profile", profile, "--state", str(state),
            "--log", str(self.log), "--rescan", "2", *extra,
        ]  # fmt: skip
        # The token through the environment, as a service would pass it.
        self.env = {**os.environ, "HUB_AGENT_TOKEN": token}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        self.process = subprocess.Popen(
            self.arguments, cwd=ROOT, env=self.env, stderr=subprocess.PIPE
        )
        return self

    def events(self, name: str | None = None) -> list[dict]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if name is None or r["event"] == name]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def stderr(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace") if self.process.poll() else ""


def wait_until(check: Callable[[], object], *, timeout: float, what: str, agent=None) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if agent is not None and agent.process.poll() is not None:
            raise AssertionError(f"the agent exited ({agent.process.returncode}) before {what}")
        time.sleep(0.05)
    log = "\n".join(json.dumps(e) for e in agent.events()[-20:]) if agent else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")
