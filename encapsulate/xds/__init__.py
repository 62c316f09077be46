"""Originals delivered over XDS / MHD: the file without private metadata (``original``),
its DocumentEntry metadata (``metadata``) under the affinity domain's ``policy``, and
the ITI-65 Provide Document Bundle (``mhd``).
"""
