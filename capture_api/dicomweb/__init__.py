"""DICOMweb STOW-RS (PS3.18 10.5): the hub as a receiver of DICOM from web clients."""
