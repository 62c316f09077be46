"""`python -m mobile_client.agent`: watch device export folders and send what they drop.

    enroll CODE --hub URL [--state DIR]   trade the hub's one-time code for the device's token
    watch FOLDER [FOLDER...] --hub URL [--token TOKEN] [--profile NAME] [--state DIR] ...
    profiles [--profiles FILE]        list the profiles and what each takes
    forget FILE --state DIR           let a refused file's content be sent again

Configuration errors print `error: REASON` on stderr and exit 2, before any
file is touched. SIGINT or SIGTERM stop the agent between two chunks.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO

from mobile_client.agent.courier import Courier, file_sha256
from mobile_client.agent.enrollment import device_enroll, token_store, token_stored
from mobile_client.agent.hub_client import (
    DEFAULT_CHUNK_BYTES,
    HubClient,
    HubRefused,
    HubUnavailable,
)
from mobile_client.agent.journal import Journal
from mobile_client.agent.profiles import ProfileError, load_profiles
from mobile_client.agent.reporting import Reporter
from mobile_client.agent.watcher import DEFAULT_RESCAN_SECONDS, FolderWorker, watch

DEFAULT_PROFILE = "endoscopy-tower"
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]i?B?)?\s*$", re.IGNORECASE)


class UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, ProfileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mobile_client.agent",
        description="Send files that endoscopy towers, POCUS docks and cameras drop into "
        "export folders to the capture hub, each exactly once.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    enroll_cmd = commands.add_parser("enroll", help="enroll this device with a one-time code")
    enroll_cmd.add_argument("code", help="the code the hub showed (manage.py hubdevice NAME)")
    enroll_cmd.add_argument("--hub", default=os.environ.get("HUB_AGENT_URL"), help="hub base URL")
    enroll_cmd.add_argument("--state", type=Path, default=_default_state(), help="state directory")
    enroll_cmd.set_defaults(run=_enroll)

    watch_cmd = commands.add_parser("watch", help="watch folders and send what they drop")
    watch_cmd.add_argument("folders", metavar="FOLDER", nargs="+", type=Path)
    watch_cmd.add_argument("--hub", default=os.environ.get("HUB_AGENT_URL"), help="hub base URL")
    watch_cmd.add_argument(
        "--token",
        default=os.environ.get("HUB_AGENT_TOKEN"),
        help="the device's API token (or HUB_AGENT_TOKEN, --token-file, or the enrolled one)",
    )
    watch_cmd.add_argument("--token-file", type=Path, help="a file holding the token")
    watch_cmd.add_argument("--profile", default=DEFAULT_PROFILE, help="device profile name")
    watch_cmd.add_argument("--profiles", type=Path, help="a site's own profiles (TOML)")
    watch_cmd.add_argument("--state", type=Path, default=_default_state(), help="state directory")
    watch_cmd.add_argument(
        "--quiet-seconds", type=float, help="override the profile's quiet period"
    )
    watch_cmd.add_argument(
        "--chunk-size", type=_size, default=DEFAULT_CHUNK_BYTES, help="bytes per PATCH (8MiB)"
    )
    watch_cmd.add_argument(
        "--max-rate", type=_size, default=0, help="bytes per second at most (0: no limit)"
    )
    watch_cmd.add_argument(
        "--rescan", type=float, default=DEFAULT_RESCAN_SECONDS, help="seconds between rescans"
    )
    watch_cmd.add_argument(
        "--wait-archived",
        action="store_true",
        help="file a file as done only once the archive has it",
    )
    watch_cmd.add_argument("--log", type=Path, help="JSON-lines log file (default: stderr)")
    watch_cmd.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    watch_cmd.set_defaults(run=_watch)

    profiles_cmd = commands.add_parser("profiles", help="list the device profiles")
    profiles_cmd.add_argument("--profiles", type=Path, help="a site's own profiles (TOML)")
    profiles_cmd.set_defaults(run=_list_profiles)

    forget_cmd = commands.add_parser("forget", help="let this file's content be sent again")
    forget_cmd.add_argument("file", type=Path)
    forget_cmd.add_argument("--state", type=Path, default=_default_state())
    forget_cmd.set_defaults(run=_forget)
    return parser


def _enroll(args: argparse.Namespace) -> int:
    if not args.hub:
        raise UsageError("name the hub with --hub URL (or HUB_AGENT_URL)")
    try:
        token = device_enroll(args.hub, args.code)
    except (HubRefused, HubUnavailable) as error:
        print(f"error: enrollment failed: {error}", file=sys.stderr)
        return 1
    path = token_store(args.state, token)
    print(f"enrolled; the device's token is in {path}")
    return 0


def _watch(args: argparse.Namespace) -> int:
    profiles = load_profiles(args.profiles)
    if args.profile not in profiles:
        raise UsageError(f"no profile {args.profile!r} (known: {', '.join(sorted(profiles))})")
    profile = profiles[args.profile]
    if args.quiet_seconds is not None:
        profile = profile.with_quiet_seconds(args.quiet_seconds)
    if not args.hub:
        raise UsageError("name the hub with --hub URL (or HUB_AGENT_URL)")
    token = _token(args)
    folders = [folder.resolve() for folder in args.folders]
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
    args.state.mkdir(parents=True, exist_ok=True)
    lock = _lock_state(args.state)
    log: IO[str] | None = args.log.open("a", encoding="utf-8") if args.log else None
    reporter = Reporter(log, show_progress=False if args.no_progress else None)
    journal = Journal.in_directory(args.state)
    stop = threading.Event()
    _on_signals(stop)
    courier = Courier(
        hub=HubClient(args.hub, token, chunk_bytes=args.chunk_size),
        journal=journal,
        reporter=reporter,
        stop=stop,
        wait_archived=args.wait_archived,
        max_bytes_per_second=args.max_rate,
    )
    workers = [
        FolderWorker(
            folder,
            profile=profile,
            courier=courier,
            reporter=reporter,
            stop=stop,
            rescan_seconds=args.rescan,
        )
        for folder in folders
    ]
    reporter.event("started", hub=args.hub, profile=profile.name, state=str(args.state))
    try:
        watch(workers, stop)
    finally:
        reporter.event("shut_down")
        journal.close()
        reporter.close()
        lock.close()
    return 0


def _list_profiles(args: argparse.Namespace) -> int:
    for name, profile in sorted(load_profiles(args.profiles).items()):
        marker = f", marker {profile.done_marker}" if profile.done_marker else ""
        print(
            f"{name}: {profile.specialty}, {' '.join(profile.patterns)}, "
            f"context from {profile.context.value}{marker} - {profile.description}"
        )
    return 0


def _forget(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise UsageError(f"{args.file} is not a file")
    lock = _lock_state(args.state)
    journal = Journal.in_directory(args.state)
    digest = file_sha256(args.file)
    known = journal.get(digest) is not None
    journal.forget(digest)
    journal.close()
    lock.close()
    print(f"{args.file}: {'forgotten' if known else 'was not in the journal'} ({digest})")
    return 0


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"cannot read {args.token_file}: {error.strerror}") from None
    else:
        token = (args.token or "").strip() or token_stored(args.state) or ""
    if not token:
        raise UsageError(
            "enroll first (enroll CODE --hub URL), or give a token: --token, --token-file "
            "or HUB_AGENT_TOKEN"
        )
    return token


def _lock_state(state: Path) -> IO[bytes]:
    """One agent per state directory: two would both resume the same uploads."""
    state.mkdir(parents=True, exist_ok=True)
    lock = (state / "agent.lock").open("ab")
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise UsageError(f"another agent is using the state directory {state}") from None
    return lock


def _on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            # A second signal: the person means it; the journal is consistent at any point.
            os._exit(128 + signum)
        # Only the flag: a handler that logged could wait on a lock its own thread holds.
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _default_state() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "capture-hub-agent"


def _size(text: str) -> int:
    """`8388608`, `8M`, `8MiB`, `512K`: binary multiples."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 8MiB or 512K")
    unit = (match.group(2) or "").upper()[:1]
    return int(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
