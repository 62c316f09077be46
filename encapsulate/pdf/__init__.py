"""The PDF path: a PDF checked, refused with active content, stripped of metadata (``document``),
and its handler (``wrap``).
"""
