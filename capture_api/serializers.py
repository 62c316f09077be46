"""What the API reads and writes; no behaviour beyond parsing and shaping."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from capture_api.context_input import context_decode, context_text_check
from capture_api.errors import ApiProblem
from hub.captures.context_schema import context_json_schema
from hub.captures.models import Capture, DicomInstance
from hub.delivery.models import Delivery


@extend_schema_field(context_json_schema())
class ContextField(serializers.Field):
    """The capture context: a JSON object, sent as a form field or a JSON part."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "read"):
            data = data.read()
        try:
            if isinstance(data, bytes | str):
                return context_decode(data)
            context_text_check(data)
        except ApiProblem as problem:
            raise serializers.ValidationError(problem.message) from None
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.BINARY)
class UploadFileField(serializers.FileField):
    """A file part of a multipart body: binary in the schema, so Try-it-out sends a file."""


class CaptureUploadSerializer(serializers.Serializer):
    file = UploadFileField(
        allow_empty_file=True, help_text="the photo, video or document, as captured"
    )
    context = ContextField(
        help_text="the capture context, a JSON object (see docs/capture-context.md)"
    )


class DicomInstanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DicomInstance
        fields = ["sop_instance_uid", "sop_class_uid", "transfer_syntax_uid", "derived", "size"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "destination",
            "status",
            "attempts",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "retrieve_url",
        ]


class CaptureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    context = serializers.SerializerMethodField()
    original = serializers.SerializerMethodField()
    dicom = serializers.SerializerMethodField()
    deliveries = DeliverySerializer(many=True, read_only=True)
    measurement = serializers.SerializerMethodField()

    class Meta:
        model = Capture
        fields = [
            "id",
            "url",
            "status",
            "reason",
            "mime_type",
            "created_at",
            "updated_at",
            "original",
            "context",
            "identity_unverified",
            "media_info",
            "dicom",
            "deliveries",
            "measurement",
        ]

    def get_url(self, capture: Capture) -> str:
        return reverse(
            "capture-detail", kwargs={"pk": capture.pk}, request=self.context.get("request")
        )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_context(self, capture: Capture) -> dict[str, Any]:
        """The capture's context as the hub holds it, with the session the client named."""
        if capture.session_id is None:
            return capture.context
        return {**capture.context, "session": str(capture.session_id)}

    def get_original(self, capture: Capture) -> dict[str, Any]:
        return {
            "name": capture.original_name,
            "size": capture.original_size,
            "sha256": capture.original_sha256,
        }

    def get_dicom(self, capture: Capture) -> dict[str, Any]:
        return {
            "study_instance_uid": capture.study_instance_uid,
            "series_instance_uid": capture.series_instance_uid,
            "sop_instance_uid": capture.sop_instance_uid,
            "instances": DicomInstanceSerializer(capture.instances.all(), many=True).data,
        }

    def get_measurement(self, capture: Capture) -> dict[str, Any] | None:
        """A wound photo's measurement (docs/wound-measurement.md): "due", "measured"
        (the sizes, method and outline) or "refused" (the reason); None if never."""
        if not capture.measurement_state:
            return None
        wound = getattr(capture, "wound_photo", None)
        return {
            "state": capture.measurement_state,
            "reason": capture.measurement_reason,
            "wound": str(wound.wound_id) if wound is not None else None,
            **(capture.measurement or {}),
        }
