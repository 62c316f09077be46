"""The photo path: camera JPEGs kept as coded where possible, other images decoded.

``jpeg_wrap`` and ``raster_wrap`` are the handlers; ``camera_jpeg``,
``jpeg_markers`` and ``jpeg_transform`` keep a camera stream, ``structure``
and ``decode`` check and decode the rest, ``pixels`` codes them for Pixel Data.
"""
