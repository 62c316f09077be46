"""The Encapsulated PDF IOD (PS3.3 A.45.1) holding a checked, scrubbed PDF.

The PDF is checked, refused if it carries active content and stripped of its
metadata first (``pdf.document``); the scrubbed bytes are what the instance
holds. Attributes are grouped under the name of the module they belong to;
the output is reproducible from the same inputs (no creation timestamps), so
a retried task re-sends the same instance.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from encapsulate.context.capture import CaptureContext
from encapsulate.dicom.enums import ConversionType, YesNo
from encapsulate.dicom.modules import (
    add_common_modules,
    capture_moment,
    da,
    dt,
    new_dataset,
    tm,
)
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.choice import ENCAPSULATED_PDF
from encapsulate.pdf.document import MIME_TYPE, PdfDocument

# SC Equipment (C.8.6.1) Conversion Type: SD "Scanned Document", as dcm4che's
# pdf2dcm does; the hub cannot tell a scan from a born-digital PDF.
CONVERSION_TYPE = ConversionType.SCANNED_DOCUMENT


def build_encapsulated_pdf(
    *,
    document: PdfDocument,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
) -> Dataset:
    """An Encapsulated PDF dataset (PS3.3 A.45.1), with file meta, holding ``document.data``."""
    acquired = capture_moment(context, None)
    ds = new_dataset(ENCAPSULATED_PDF.sop_class_uid, identity, ExplicitVRLittleEndian)
    # Encapsulated Document Series (C.24.1); the shared General Series helper
    # sets the same attributes plus the order's Request Attributes.
    add_common_modules(
        ds,
        context=context,
        identity=identity,
        producer=producer,
        contribution="Encapsulated a PDF as DICOM after removing its metadata",
        acquired=acquired,
        modality=ENCAPSULATED_PDF.modality,
        make=None,
        model=None,
    )
    # The Encapsulated Document Series module has no Operators' Name.
    if "OperatorsName" in ds:
        del ds.OperatorsName

    # SC Equipment (C.8.6.1)
    ds.ConversionType = CONVERSION_TYPE

    # Encapsulated Document (C.24.2)
    ds.InstanceNumber = identity.instance_number
    ds.ContentDate = da(acquired)
    ds.ContentTime = tm(acquired)
    ds.AcquisitionDateTime = dt(acquired) if acquired else ""
    # A clinical PDF shows who it is about on its pages: YES is the honest answer.
    ds.BurnedInAnnotation = YesNo.YES
    ds.DocumentTitle = context.description or ""
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = MIME_TYPE
    data = document.data
    # OB values have even length (PS3.5 7.1.1); the pad byte is declared by
    # Encapsulated Document Length, the length without it (C.24.2.1).
    ds.EncapsulatedDocumentLength = len(data)
    ds.EncapsulatedDocument = data + b"\x00" if len(data) % 2 else data
    return ds
