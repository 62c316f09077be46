"""DICOM value representation limits checked before a value reaches a dataset.

The rules are those of PS3.5 section 6.2 (Value Representations). A value that
breaks them would be silently truncated or rejected by the archive, so the
capture context is refused up front with a reason naming the field.
"""

from __future__ import annotations

import re

from encapsulate.errors import ContextError

# PS3.5 6.2: LO and SH exclude backslash (the value separator) and control
# characters other than ESC; PN additionally uses ^ and = as delimiters.
_CONTROL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")
# PS3.5 9.1: UID components are digits without leading zeros, dot separated.
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")

LO_MAX = 64
SH_MAX = 16
UI_MAX = 64
PN_COMPONENT_MAX = 64
PN_COMPONENTS = 5
PN_GROUPS = 3


def check_text(field: str, value: str, *, max_chars: int, vr: str) -> str:
    """Check a single-valued LO/SH/CS string; return it unchanged."""
    if not value.strip():
        raise ContextError(f"{field} must not be blank")
    if len(value) > max_chars:
        raise ContextError(
            f"{field} is {len(value)} characters; DICOM {vr} allows at most {max_chars}"
        )
    if "\\" in value:
        raise ContextError(f"{field} must not contain a backslash (DICOM value separator)")
    if _CONTROL.search(value) or "\n" in value or "\r" in value:
        raise ContextError(f"{field} must be one line without control characters")
    return value


def check_lo(field: str, value: str) -> str:
    """Long String: at most 64 characters (PS3.5 6.2)."""
    return check_text(field, value, max_chars=LO_MAX, vr="LO")


def check_sh(field: str, value: str) -> str:
    """Short String: at most 16 characters (PS3.5 6.2)."""
    return check_text(field, value, max_chars=SH_MAX, vr="SH")


def check_pn(field: str, value: str) -> str:
    """Person Name: up to three '='-separated groups of five '^'-separated
    components, each at most 64 characters (PS3.5 6.2.1)."""
    check_text(
        field, value, max_chars=PN_GROUPS * (PN_COMPONENTS * (PN_COMPONENT_MAX + 1)), vr="PN"
    )
    groups = value.split("=")
    if len(groups) > PN_GROUPS:
        raise ContextError(f"{field} has more than {PN_GROUPS} '='-separated name groups")
    for group in groups:
        components = group.split("^")
        if len(components) > PN_COMPONENTS:
            raise ContextError(
                f"{field} has more than {PN_COMPONENTS} '^'-separated components "
                "(family^given^middle^prefix^suffix)"
            )
        for component in components:
            if len(component) > PN_COMPONENT_MAX:
                raise ContextError(
                    f"{field} has a name component over {PN_COMPONENT_MAX} characters"
                )
    return value


def check_uid(field: str, value: str) -> str:
    """Unique Identifier: dotted digits, no leading zeros, at most 64 chars (PS3.5 9.1)."""
    if len(value) > UI_MAX or not _UID.fullmatch(value):
        raise ContextError(
            f"{field} is not a DICOM UID (digits and dots, no leading zeros, at most 64 characters)"
        )
    return value


def is_uid(value: str) -> bool:
    """True for a dotted-digit OID / UID of at most 64 characters (PS3.5 9.1)."""
    return len(value) <= UI_MAX and "." in value and _UID.fullmatch(value) is not None


def needs_unicode(*values: str | None) -> bool:
    """True when any value is outside the default repertoire (ASCII, PS3.5 6.1.2.1)."""
    return any(v is not None and not v.isascii() for v in values)
