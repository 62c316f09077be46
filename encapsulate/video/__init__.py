"""The video path: probe, choose a transfer syntax, remux or transcode, stream to disk.

``wrap`` is the handler; ``probe`` and ``atoms`` read the file, ``policy``
chooses passthrough, remux or transcode, ``transcode`` runs FFmpeg,
``output`` streams Pixel Data at write time, ``scrub`` makes the XDS original.
"""
