"""Pages of a list: `?limit=` capped, `?offset=` refused past what a database can count."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

# A SQL OFFSET is a signed 64-bit integer; no list of captures comes near 2**31.
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages; a limit above `max_limit` is taken as `max_limit`."""

    max_limit = 200

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param, "")
        if raw.strip().isdigit() and int(raw) > MAX_OFFSET:
            raise serializers.ValidationError({"offset": [f"offset is at most {MAX_OFFSET}"]})
        return super().get_offset(request)
