"""What every DICOM object the hub writes shares.

The common modules filled from the capture context (``modules``), writing a
PS3.10 file atomically (``output_file``), and a device's own DICOM export
reconciled to the capture context (``reconcile``).
"""
