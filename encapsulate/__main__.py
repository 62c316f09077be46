"""Command line: ``python -m encapsulate dicom|xds|inspect INPUT... [--context C --out DIR]``.

- ``dicom`` wraps each input as DICOM (or reconciles an input that already
  is DICOM) and prints the written paths, one a line. The inputs of one run
  share a study (the order's Study Instance UID when it names one).
- ``xds`` writes, per input, the original without its private metadata
  (``xds.original``) and ``<stem>.bundle.json``, the MHD ITI-65 Bundle that
  delivers it, and prints both paths. ``--policy`` names a JSON file with the
  ``XdsPolicy`` fields ``source_id``, ``assigning_authorities`` and
  ``language``; without it a development policy is used whose source id and
  issuer OIDs are derived 2.25 OIDs (fine for trying, not for a real domain).
- ``inspect`` prints each input's description as JSON: one object for one
  input, an array of objects with their ``path`` for several.
- ``measure`` and ``marker-sheet``: wound measurement from a photo with a
  calibration marker, and the printable marker sheet (``encapsulate.measure.cli``).

Exit 0 on success; 2 with a one-line ``error: ...`` on stderr for bad input
or a bad context (the reasons the hub shows). Several inputs are all or
nothing: everything is written to a staging folder inside ``--out`` and moved
into place only when every input succeeded, so a failure leaves ``--out`` as
it was (and removes it if the run created it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from encapsulate import CaptureContext, InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.errors import ContextError, EncapsulateError, MediaError
from encapsulate.measure.cli import add_commands as add_measure_commands

if TYPE_CHECKING:
    from encapsulate.xds.policy import XdsPolicy

BAD_INPUT = 2


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ContextError(f"the {what} file cannot be read: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ContextError(f"the {what} file is not valid JSON: {error}") from None


def _policy(path: Path | None) -> XdsPolicy:
    from encapsulate.xds.policy import XdsPolicy, derived_oid

    if path is None:
        return XdsPolicy(source_id=derived_oid("encapsulate command line"), derive_issuer_oids=True)
    data = _read_json(path, "policy")
    known = {"source_id", "assigning_authorities", "language"}
    if not isinstance(data, dict) or not set(data) <= known or "source_id" not in data:
        raise ContextError(f"the policy file must be a JSON object with {', '.join(sorted(known))}")
    return XdsPolicy(**data)


def _staged(out: Path, work: Callable[[Path], list[Path]]) -> list[Path]:
    """Run ``work`` in a staging folder in ``out``; move its files into ``out`` if it succeeds."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))
    try:
        staged = work(staging)
        clashes = [p.name for p in staged if (out / p.name).exists()]
        if clashes:
            raise MediaError(f"{out / clashes[0]} already exists; choose another --out folder")
        return [p.replace(out / p.name) for p in staged]
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _identities(context: CaptureContext, count: int) -> list[InstanceIdentity]:
    first = InstanceIdentity.mint(
        study_instance_uid=context.order.study_instance_uid if context.order else None
    )
    return [first] + [
        InstanceIdentity.mint(study_instance_uid=first.study_instance_uid) for _ in range(count - 1)
    ]


def _dicom(args: argparse.Namespace) -> None:
    context = parse_context(_read_json(args.context, "context"))
    identities = _identities(context, len(args.inputs))

    def work(staging: Path) -> list[Path]:
        written: list[Path] = []
        for source, identity in zip(args.inputs, identities, strict=True):
            instances = wrap(source, context=context, identity=identity, out_dir=staging)
            written.extend(instance.path for instance in instances)
        return written

    for path in _staged(args.out, work):
        print(path)


def _xds(args: argparse.Namespace) -> None:
    from encapsulate.xds.metadata import describe_original
    from encapsulate.xds.mhd import mhd_provide_bundle
    from encapsulate.xds.original import EXTENSIONS, scrubbed_original

    context = parse_context(_read_json(args.context, "context"))
    policy = _policy(args.policy)
    stems = [Path(p).stem for p in args.inputs]
    if len(set(stems)) != len(stems):
        raise ContextError("two inputs have the same name; their outputs would overwrite")
    identities = _identities(context, len(args.inputs))

    def work(staging: Path) -> list[Path]:
        written: list[Path] = []
        for source, stem, identity in zip(args.inputs, stems, identities, strict=True):
            media_info = inspect_media(source)
            media_type, data = scrubbed_original(source)
            original = staging / f"{stem}{EXTENSIONS[media_type]}"
            original.write_bytes(data)
            entry = describe_original(
                original, context=context, media_info=media_info, identity=identity, policy=policy
            )
            bundle = mhd_provide_bundle(entry, policy=policy, data=data)
            bundle_path = staging / f"{stem}.bundle.json"
            bundle_path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
            written += [original, bundle_path]
        return written

    for path in _staged(args.out, work):
        print(path)


def _inspect(args: argparse.Namespace) -> None:
    infos = [inspect_media(source).as_json() for source in args.inputs]
    if len(infos) == 1:
        print(json.dumps(infos[0], indent=2))
    else:
        described = [{"path": str(s), **i} for s, i in zip(args.inputs, infos, strict=True)]
        print(json.dumps(described, indent=2))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m encapsulate",
        description="Wrap medical photos, videos and PDFs as DICOM, or describe them for XDS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dicom = commands.add_parser("dicom", help="write DICOM file(s) and print their paths")
    xds = commands.add_parser(
        "xds", help="write the scrubbed originals and their MHD ITI-65 Bundles; print the paths"
    )
    for command in (dicom, xds):
        command.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
        command.add_argument("--context", type=Path, required=True, help="capture context JSON")
        command.add_argument("--out", type=Path, required=True, help="output folder")
    xds.add_argument("--policy", type=Path, help="XDS policy JSON (source_id, ...)")
    dicom.set_defaults(run=_dicom)
    xds.set_defaults(run=_xds)
    inspect = commands.add_parser("inspect", help="print what each file is, as JSON")
    inspect.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    inspect.set_defaults(run=_inspect)
    add_measure_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except EncapsulateError as error:
        print(f"error: {error.reason}", file=sys.stderr)
        return BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
