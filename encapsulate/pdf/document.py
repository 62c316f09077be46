"""A PDF checked, refused if it carries active content, and stripped of metadata.

A clinical capture hub must not forward active content to an archive whose
viewers may run it, so a PDF with JavaScript (a /JS or /JavaScript entry, in
an OpenAction, an additional action or the name tree), a Launch action,
embedded files (/EmbeddedFiles, /EmbeddedFile, file attachment annotations),
rich media or an XFA form is refused with a one-line reason.

The document is then rewritten with pypdf (ISO 32000-1 7.5: a full rewrite,
not an incremental update, so earlier revisions and unreachable objects with
old content are dropped too) without the document information dictionary
(/Author, /Creator, /Producer, /Title, /Subject, /Keywords, dates; 14.3.3),
the XMP metadata streams (/Metadata, 14.3.2) of the catalog and the pages,
and /PieceInfo (application private data, 14.5). What stays: the pages, their
content and resources, annotations, outlines and (non-XFA) form fields, any
of which may still show the patient's name as text on the page. The rewrite
is reproducible: the same input gives the same bytes (pypdf writes no /ID
unless the input had one).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.media.info import MediaInfo

MIME_TYPE = "application/pdf"
# ISO 32000-1 7.5.2 (1.0 to 1.7) and ISO 32000-2 (2.0).
_HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)")
# 7.5.5: the last line is %%EOF; writers append whitespace, some a few bytes more.
_TAIL = 1024

# Keys whose presence anywhere in the object graph is active content.
_ACTIVE_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/EmbeddedFiles": "embedded files",
    "/EmbeddedFile": "an embedded file",
    "/XFA": "an XFA form",
    "/RichMediaContent": "rich media",
}
# Values of /S (action type) and /Subtype that are active content.
_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a Launch action",
    "/ImportData": "an ImportData action",
    "/RichMediaExecute": "rich media",
}
_ACTIVE_SUBTYPES = {"/FileAttachment": "a file attachment", "/RichMedia": "rich media"}
# Metadata removed from the catalog and every page (see module docstring).
_PRIVATE_KEYS = ("/Metadata", "/PieceInfo")


@dataclass(frozen=True)
class PdfDocument:
    """A checked PDF: ``data`` is the scrubbed document, ``info`` describes it."""

    data: bytes
    info: MediaInfo
    source_size: int


def _active_content(reader: PdfReader) -> str | None:
    """The first kind of active content reachable from the trailer, or None.

    Iterative walk with a visited set: PDF object graphs are cyclic (/Parent)
    and can be deep, and object streams hide objects from a byte scan.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject] = [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            for name, what in _ACTIVE_KEYS.items():
                if name in obj:
                    return what
            action = obj.get("/S")
            if isinstance(action, NameObject) and action in _ACTIVE_ACTIONS:
                return _ACTIVE_ACTIONS[action]
            subtype = obj.get("/Subtype")
            if isinstance(subtype, NameObject) and subtype in _ACTIVE_SUBTYPES:
                return _ACTIVE_SUBTYPES[subtype]
            stack.extend(value for name, value in obj.items() if name != "/Parent")
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return None


def _parse(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise UnsupportedMediaError(
                "the PDF is encrypted; upload an unprotected copy of the document"
            )
        _ = reader.trailer["/Root"]
        pages = len(reader.pages)
    except MediaError:
        raise
    except Exception as error:
        # pypdf raises many types on malformed input (PdfReadError, KeyError,
        # ValueError, ...); each means the same thing here: not a usable PDF.
        raise MediaError(f"the PDF is damaged and cannot be read ({error})") from None
    if pages == 0:
        raise MediaError("the PDF has no pages")
    return reader


def _private_metadata(reader: PdfReader) -> tuple[str, ...]:
    found: list[str] = []
    info = reader.trailer.get("/Info")
    if info is not None:
        found.extend(f"document information {key}" for key in sorted(info.get_object()))
    if "/Metadata" in reader.trailer["/Root"]:
        found.append("XMP metadata")
    if any("/Metadata" in page or "/PieceInfo" in page for page in reader.pages):
        found.append("page metadata")
    return tuple(found)


def _scrubbed(reader: PdfReader) -> bytes:
    writer = PdfWriter(clone_from=reader)
    # pypdf would write its own default header (%PDF-1.3): keep the source's version.
    writer.pdf_header = reader.pdf_header
    writer.metadata = None
    for holder in (writer.root_object, *writer.pages):
        for key in _PRIVATE_KEYS:
            holder.pop(NameObject(key), None)
    # The popped streams are still in the writer's object table: drop every
    # object nothing refers to any more, or they would be written anyway.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def check_pdf_bytes(data: bytes) -> PdfReader:
    """Check structure and refuse active content; return the parsed document.

    Raises ``MediaError`` (truncated, damaged) or ``UnsupportedMediaError``
    (encrypted, active content), each with a one-line reason.
    """
    if not _HEADER.match(data):
        raise MediaError("the file does not start with a PDF header (%PDF-1.x)")
    if b"%%EOF" not in data[-_TAIL:]:
        raise MediaError("the PDF is truncated: it does not end with %%EOF")
    reader = _parse(data)
    active = _active_content(reader)
    if active is not None:
        raise UnsupportedMediaError(
            f"the PDF contains {active}, which the hub does not forward; "
            "print it to a new PDF without active content and upload that"
        )
    return reader


def read_pdf(path: Path) -> PdfDocument:
    """Read, check and scrub the PDF at ``path`` (see the module docstring)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise MediaError(f"the file cannot be read: {error.strerror or error}") from None
    reader = check_pdf_bytes(data)
    info = MediaInfo(
        kind="document",
        mime_type=MIME_TYPE,
        rows=0,
        columns=0,
        orientation=1,
        upright_rows=0,
        upright_columns=0,
        captured_at=None,
        make=None,
        model=None,
        private_metadata=_private_metadata(reader),
        container=f"PDF {reader.pdf_header.removeprefix('%PDF-')}",
        pages=len(reader.pages),
    )
    return PdfDocument(data=_scrubbed(reader), info=info, source_size=len(data))
