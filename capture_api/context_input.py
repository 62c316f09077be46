"""The capture context and file names as they arrive: text the hub will store, or a 400.

Both upload channels (multipart and tus) decode the context here, so a context
refused on one is refused on the other with the same code and field. What is
refused: bytes that are not UTF-8 (and U+FFFD, which is what Django makes of
them in a form field), nesting deeper than any real context, control
characters (C0, C1, DEL), lone surrogates, and the Unicode bidirectional
formatting characters that make text read differently from what it holds
(Unicode TR #9, "Trojan Source", CVE-2021-42574).
"""

from __future__ import annotations

import json
import unicodedata

from capture_api.errors import ApiProblem

# docs/capture-context.md nests three levels; sixteen leaves room and stops recursion bombs.
MAX_CONTEXT_DEPTH = 16
MAX_CONTEXT_CHARS = 64 * 1024
# TR #9's explicit directional formatting characters (embeddings, overrides, isolates, marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
REPLACEMENT_CHARACTER = "\ufffd"


def context_refused(message: str) -> ApiProblem:
    return ApiProblem(message, status=400, code="context_invalid", field="context")


def text_fault(text: str) -> str | None:
    """Why `text` may not be stored, naming the first character at fault; None if it may."""
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc":
            return f"a control character (U+{ord(char):04X}) at position {position}"
        if category == "Cs":
            return f"an unpaired surrogate (U+{ord(char):04X}) at position {position}"
        if char in BIDI_CONTROLS:
            return (
                f"a bidirectional formatting character (U+{ord(char):04X}) at position {position}"
            )
        if char == REPLACEMENT_CHARACTER:
            return f"U+FFFD (bytes that were not UTF-8) at position {position}"
    return None


def context_decode(raw: bytes | str) -> object:
    """The context's JSON value, or an ApiProblem 400 `context_invalid` (field `context`)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise context_refused(f"context is not UTF-8 (byte {error.start})") from None
    if len(raw) > MAX_CONTEXT_CHARS:
        raise context_refused(f"context is longer than {MAX_CONTEXT_CHARS} characters")
    if _nesting_exceeds(raw, MAX_CONTEXT_DEPTH):
        raise context_refused(f"context nests deeper than {MAX_CONTEXT_DEPTH} levels")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise context_refused(f"context is not valid JSON: {error}") from None
    context_text_check(value)
    return value


def context_text_check(value: object, path: str = "context") -> None:
    """Every key and string value of a decoded context is text the hub will store."""
    if isinstance(value, dict):
        for key, item in value.items():
            if fault := text_fault(str(key)):
                raise context_refused(f"a key of {path} holds {fault}")
            context_text_check(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            context_text_check(item, f"{path}[{index}]")
    elif isinstance(value, str) and (fault := text_fault(value)):
        raise context_refused(f"{path} holds {fault}")


def filename_fault(name: str) -> str | None:
    """Why a client's file name may not be stored (a NUL, a control or bidi character)."""
    return text_fault(name)


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON `text` opens more than `limit` arrays/objects inside each other.

    Counted before parsing, so no parser recurses 10,000 levels deep.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
