"""Encapsulated PDF (PS3.3 A.45.1): structure checks, active content, metadata, dciodvfy."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pydicom
import pytest

from encapsulate import CaptureContext, InstanceIdentity, inspect_media, wrap
from encapsulate.errors import MediaError, UnsupportedMediaError
from encapsulate.identity import Producer
from encapsulate.iods.encapsulated_pdf import build_encapsulated_pdf
from encapsulate.pdf.document import PdfDocument, read_pdf
from tests.dicom_checks import dciodvfy_errors
from tests.media_documents import (
    AUTHOR,
    CREATOR,
    PAGE_TEXT,
    XMP_MARKER,
    make_pdf,
    make_truncated_pdf,
    pdf_bytes,
)


def test_inspect_counts_pages_and_names_the_metadata(tmp_path: Path) -> None:
    info = inspect_media(make_pdf(tmp_path / "a.pdf", pages=3))
    assert (info.kind, info.mime_type, info.pages, info.container) == (
        "document",
        "application/pdf",
        3,
        "PDF 1.7",
    )
    assert "document information /Author" in info.private_metadata
    assert "XMP metadata" in info.private_metadata


def test_wrap_writes_a_valid_encapsulated_pdf(tmp_path: Path, context: CaptureContext) -> None:
    identity = InstanceIdentity.mint()
    [written] = wrap(
        make_pdf(tmp_path / "a.pdf"), context=context, identity=identity, out_dir=tmp_path
    )
    assert dciodvfy_errors(written.path) == []
    ds = pydicom.dcmread(written.path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1" == written.sop_class_uid
    assert ds.SOPInstanceUID == identity.sop_instance_uid == written.sop_instance_uid
    assert (ds.Modality, ds.ConversionType, ds.BurnedInAnnotation) == ("DOC", "SD", "YES")
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.DocumentTitle == "Pressure ulcer"
    assert ds.ConceptNameCodeSequence == []
    assert (ds.PatientID, ds.AccessionNumber, ds.AdmissionID) == ("MRN-0042", "ACC-7", "ENC-9")
    document = ds.EncapsulatedDocument
    assert len(document) % 2 == 0
    pdf = document[: ds.EncapsulatedDocumentLength]
    assert document[len(pdf) :] in (b"", b"\x00")
    assert pdf.startswith(b"%PDF-1.7") and pdf.rstrip().endswith(b"%%EOF")
    assert PAGE_TEXT.encode() in pdf
    for secret in (AUTHOR, CREATOR, XMP_MARKER):
        assert secret.encode() not in pdf
    assert read_pdf(_write(tmp_path / "back.pdf", pdf)).info.pages == 2


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("length", [11, 12])
def test_odd_documents_are_padded_and_their_length_declared(
    context: CaptureContext, length: int
) -> None:
    data = b"%PDF-1.4\n" + b"x" * (length - 9)
    info = _read_bytes(pdf_bytes()).info
    ds = build_encapsulated_pdf(
        document=PdfDocument(data=data, info=info, source_size=length),
        context=context,
        identity=InstanceIdentity.mint(),
        producer=Producer(),
    )
    assert ds.EncapsulatedDocumentLength == length
    assert ds.EncapsulatedDocument == (data + b"\x00" if length % 2 else data)


def _read_bytes(data: bytes) -> PdfDocument:
    with tempfile.TemporaryDirectory() as folder:
        return read_pdf(_write(Path(folder) / "a.pdf", data))


def test_scrubbing_is_reproducible() -> None:
    assert _read_bytes(pdf_bytes()).data == _read_bytes(pdf_bytes()).data


@pytest.mark.parametrize(
    ("option", "what"),
    [
        ("javascript", "JavaScript"),
        ("open_action_js", "JavaScript"),
        ("launch", "a Launch action"),
        ("embedded_file", "embedded files"),
        ("xfa", "an XFA form"),
    ],
)
def test_active_content_is_refused(tmp_path: Path, option: str, what: str) -> None:
    with pytest.raises(UnsupportedMediaError, match=f"^the PDF contains {what}, "):
        inspect_media(make_pdf(tmp_path / "a.pdf", **{option: True}))


def test_truncated_pdf_is_refused(tmp_path: Path, context: CaptureContext) -> None:
    with pytest.raises(MediaError, match=r"^the PDF is truncated"):
        wrap(
            make_truncated_pdf(tmp_path / "cut.pdf"),
            context=context,
            identity=InstanceIdentity.mint(),
            out_dir=tmp_path,
        )
    assert [p.name for p in tmp_path.iterdir()] == ["cut.pdf"]


def test_broken_xref_is_refused(tmp_path: Path) -> None:
    data = pdf_bytes().replace(b"startxref\n", b"startxref\n9")
    with pytest.raises(MediaError, match=r"^the PDF is damaged"):
        inspect_media(_write(tmp_path / "bad.pdf", data))
