"""Which study a capture joins: one per order, one per encounter and specialty."""

from __future__ import annotations

from django.db import models


class StudyAssignment(models.Model):
    """The Study Instance UID every capture for one order (or encounter) shares.

    `key` is `order:<issuer>|<accession>` or `encounter:<issuer>|<id>|<specialty>`.
    """

    key = models.CharField(max_length=512, unique=True)
    study_instance_uid = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} -> {self.study_instance_uid}"
