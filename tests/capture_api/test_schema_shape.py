"""The OpenAPI schema's shape: a real file upload, the context's JSON Schema, sessions, tus."""

from __future__ import annotations

import jsonschema
import pytest
from rest_framework.test import APIClient

from encapsulate import context_to_json, parse_context
from hub.captures.context_schema import context_examples, context_json_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(capturer_client: APIClient) -> dict:
    return capturer_client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()


def component(schema: dict, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_a_capture_is_posted_as_a_binary_file_and_a_json_context(schema: dict) -> None:
    body = schema["paths"]["/api/v1/captures"]["post"]["requestBody"]["content"]
    form = body["multipart/form-data"]
    upload = component(schema, form["schema"])

    assert upload["properties"]["file"]["type"] == "string"
    assert upload["properties"]["file"]["format"] == "binary"  # Swagger UI offers a file chooser
    assert form["encoding"]["context"]["contentType"] == "application/json"
    context = upload["properties"]["context"]
    assert {k: v for k, v in context.items() if k != "description"} == {
        k: v for k, v in context_json_schema().items() if k != "description"
    }
    assert context["additionalProperties"] is False
    assert context["properties"]["patient"]["required"] == ["id"]
    assert context["properties"]["specialty"]["enum"][0] == "wound"


def test_the_context_schema_has_the_keys_the_parser_writes_and_no_other() -> None:
    properties = context_json_schema()["properties"]
    full = {
        "patient": {"id": "MRN-1"},
        "order": {"accession_number": "A"},
        "encounter": {"id": "E"},
        "body_site": {"code": "SCT:30021000"},
        "device": {"station_aet": "ENDO1"},
        "study": {"started_at": "2026-11-28T10:15:00+01:00"},
    }
    written = context_to_json(parse_context(full))

    assert set(properties) == {"session", *written}
    for key, value in written.items():
        if isinstance(value, dict):
            assert set(properties[key]["properties"]) == set(value), key


def test_every_example_is_the_parsers_own_output_and_fits_the_schema() -> None:
    schema = context_json_schema()
    examples = context_examples()

    assert len(examples) >= 3
    for name, example in examples.items():
        jsonschema.validate(example, schema)
        data = {k: v for k, v in example.items() if k != "session"}
        parsed = context_to_json(parse_context(data))
        assert {k: v for k, v in parsed.items() if v is not None}.keys() == data.keys(), name
    assert schema["example"] == examples["wound photo in a session"]
    with pytest.raises(jsonschema.ValidationError):  # what the parser refuses, the schema does
        jsonschema.validate({"patient": {"id": "X", "nmae": "typo"}}, schema)


def test_the_sessions_endpoints_are_documented(schema: dict) -> None:
    opened = schema["paths"]["/api/v1/sessions"]["post"]
    assert "application/json" in opened["requestBody"]["content"]
    assert "201" in opened["responses"]
    answer = component(schema, opened["responses"]["201"]["content"]["application/json"]["schema"])
    assert {"id", "url", "patient", "created_at", "captures"} <= set(answer["properties"])
    assert "200" in schema["paths"]["/api/v1/sessions/{id}"]["get"]["responses"]


def header_names(operation: dict) -> dict[str, bool]:
    return {
        p["name"]: p.get("required", False) for p in operation["parameters"] if p["in"] == "header"
    }


def test_the_tus_endpoint_is_documented_with_its_headers(schema: dict) -> None:
    collection = schema["paths"]["/api/v1/uploads/"]
    upload = schema["paths"]["/api/v1/uploads/{upload_id}"]

    creation = header_names(collection["post"])
    assert creation["Tus-Resumable"] and creation["Upload-Length"] and creation["Upload-Metadata"]
    assert set(collection["post"]["responses"]["201"]["headers"]) >= {"Location", "Upload-Offset"}
    patch = header_names(upload["patch"])
    assert patch["Upload-Offset"] and not patch["Upload-Checksum"]
    assert "application/offset+octet-stream" in upload["patch"]["requestBody"]["content"]
    assert "Upload-Offset" in upload["patch"]["responses"]["204"]["headers"]
    assert "Upload-Offset" in upload["head"]["responses"]["200"]["headers"]
    assert "204" in upload["delete"]["responses"]
    discovery = collection["options"]["responses"]["204"]["headers"]
    assert {"Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"} <= set(
        discovery
    )
    # The collection without its slash is the same operation, listed once.
    assert "/api/v1/uploads" not in schema["paths"]


def test_the_uploads_error_answers_carry_an_example_of_each_code(schema: dict) -> None:
    responses = schema["paths"]["/api/v1/captures"]["post"]["responses"]
    examples = {
        status: {
            e["value"]["error"]["code"]: e["value"]
            for e in answer["content"]["application/json"]["examples"].values()
        }
        for status, answer in responses.items()
        if int(status) >= 400
    }

    assert {"context_invalid", "session_invalid", "birth_date_required"} <= set(examples["400"])
    assert examples["400"]["session_invalid"]["error"]["field"] == "context.session"
    assert all(examples[status] for status in examples), examples  # none without an example
    for status, by_code in examples.items():
        for body in by_code.values():
            assert set(body["error"]) == {"code", "message", "field", "retryable"}
            assert body["error"]["retryable"] is (status in ("429", "507")), body
