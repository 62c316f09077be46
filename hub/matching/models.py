"""Which study a capture joins: one per order, one per encounter and specialty."""

from __future__ import annotations

from django.db import models


class StudyAssignment(models.Model):
    """The Study Instance UID every capture for one order (or encounter) shares,
    and the study attributes every instance of it carries (PS3.3 C.7.2.1).

    `key` is `order:<issuer>|<accession>` or `encounter:<issuer>|<id>|<specialty>`.
    The study starts when its first capture was taken, in that capture's UTC
    offset (a DateTimeField keeps only the instant, so the offset is its own
    column); its description is the first capture's (empty: none). `series_count` numbers
    the captures' series in the order they joined.
    """

    key = models.CharField(max_length=512, unique=True)
    study_instance_uid = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    utc_offset_minutes = models.IntegerField(null=True)
    description = models.CharField(max_length=64, blank=True, default="")
    series_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key} -> {self.study_instance_uid}"
