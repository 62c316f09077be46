"""What every DICOM object the hub writes shares.

The common modules filled from the capture context (``modules``), the
enumerated values it writes (``enums``), the well-known UIDs pydicom has no
constant for (``uids``), writing a PS3.10 file atomically (``output_file``),
and a device's own DICOM export reconciled to the capture context
(``reconcile``). SOP Class and Transfer Syntax UIDs are ``pydicom.uid``'s.
"""
