"""One module per DICOM object (IOD) or family of them, built from the capture context.

``choice`` says which IOD a capture becomes; the builders take what the media
path made (pixels, a probed stream, a scrubbed document) and return a dataset.
"""
