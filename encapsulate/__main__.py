"""Command line: ``python -m encapsulate dicom|inspect ...``.

Exit 0 on success; 2 with a one-line reason on stderr for bad input or a bad
context (the same reasons the hub shows), with nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from encapsulate import InstanceIdentity, inspect_media, parse_context, wrap
from encapsulate.errors import ContextError, EncapsulateError

BAD_INPUT = 2


def _read_context(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ContextError(f"the context file cannot be read: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ContextError(f"the context file is not valid JSON: {error}") from None


def _dicom(args: argparse.Namespace) -> None:
    context = parse_context(_read_context(args.context))
    study_uid = context.order.study_instance_uid if context.order else None
    identity = InstanceIdentity.mint(study_instance_uid=study_uid)
    created = not args.out.exists()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        written = wrap(args.input, context=context, identity=identity, out_dir=args.out)
    except BaseException:
        if created:
            args.out.rmdir()
        raise
    for instance in written:
        print(instance.path)


def _inspect(args: argparse.Namespace) -> None:
    print(json.dumps(inspect_media(args.input).as_json(), indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m encapsulate", description="Wrap medical photos as DICOM."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dicom = commands.add_parser("dicom", help="write DICOM file(s) and print their paths")
    dicom.add_argument("input", type=Path, help="the photo")
    dicom.add_argument("--context", type=Path, required=True, help="capture context JSON file")
    dicom.add_argument("--out", type=Path, required=True, help="output folder")
    dicom.set_defaults(run=_dicom)
    inspect = commands.add_parser("inspect", help="print what the file is, as JSON")
    inspect.add_argument("input", type=Path, help="the photo")
    inspect.set_defaults(run=_inspect)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except EncapsulateError as error:
        print(f"error: {error.reason}", file=sys.stderr)
        return BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
