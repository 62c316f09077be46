"""What a media file is, whatever its kind.

Recognising it by content (``sniff``), describing it (``info``), the EXIF
facts kept (``exif``), and what a photo may reveal of the patient (``privacy``).
"""
