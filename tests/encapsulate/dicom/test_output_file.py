"""write_atomically: the sha256 of what it wrote, taken on the way to the disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from encapsulate.dicom import output_file
from encapsulate.dicom.output_file import write_atomically


def _dataset() -> Dataset:
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "112039", "DCM", "Tracking"
    # A sequence of defined length: pydicom goes back to write its items' lengths.
    code.is_undefined_length_sequence_item = False
    dataset.ConceptNameCodeSequence = [code]
    dataset.PatientName = "Doe^Ann"
    return dataset


def test_the_digest_is_the_written_files(tmp_path: Path) -> None:
    written = write_atomically(_dataset(), tmp_path / "x.dcm")

    assert written.path == tmp_path / "x.dcm"
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()


def test_a_write_that_goes_back_over_written_bytes_gives_no_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should pydicom ever patch the file itself, the digest is unknown, never wrong."""

    def patching_save_as(self: Dataset, stream, **_: object) -> None:
        stream.write(b"\0" * 132)
        stream.seek(128)
        stream.write(b"DICM")
        stream.seek(0, 2)
        stream.write(b"more")

    monkeypatch.setattr(Dataset, "save_as", patching_save_as)

    written = write_atomically(_dataset(), tmp_path / "x.dcm")

    assert written.path.read_bytes() == b"\0" * 128 + b"DICM" + b"more"
    assert written.sha256 is None


def test_a_seek_to_the_end_keeps_the_digest(tmp_path: Path) -> None:
    with (tmp_path / "raw").open("wb") as stream:
        writer = output_file._HashingWriter(stream)
        writer.write(b"abc")
        writer.seek(0, 2)
        writer.write(b"def")
        assert writer.tell() == 6
    assert writer.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
