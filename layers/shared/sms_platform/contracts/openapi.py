"""The contract routes as OpenAPI 3.1 (``contract_document``) and their merge into the staff API's
document (``merged``), so that ``GET /v1/openapi.json`` describes every route the API serves.

Schemas come from the pydantic models of ``operations``: request bodies as they are validated,
answers as they are serialised. Every refusal is the contract's ``{"error": ...}`` shape.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sms_platform.contracts import examples
from sms_platform.contracts.operations import OPERATIONS, SECURITY_SCHEMES, TAGS, Operation
from sms_platform.foundation.http import ERROR_SCHEMA

REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], dict[str, Any]], dict[str, Any]]:
    """Each model's reference (requests in validation mode, answers in serialisation mode) and
    the component schemas they need."""
    wanted: list[tuple[type[BaseModel], Any]] = []
    for operation in OPERATIONS:
        if operation.request is not None:
            wanted.append((operation.request, "validation"))
        wanted.append((operation.answer.model, "serialization"))
    references, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    return references, definitions.get("$defs", {})


def _request_body(operation: Operation, references: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    schema = references[(operation.request, "validation")]
    if operation.request_is_list:
        schema = {"type": "array", "items": schema}
    media = {"schema": schema, "example": operation.example}
    return {"required": True, "content": {"application/json": media}}


def _responses(operation: Operation, references: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    answer = operation.answer
    responses: dict[str, Any] = {
        str(answer.status): {
            "description": answer.description,
            "content": {
                "application/json": {
                    "schema": references[(answer.model, "serialization")],
                    "example": answer.example,
                }
            },
        }
    }
    for status, description in sorted(operation.refusals.items()):
        media = {"schema": ERROR_REF, "example": examples.ERROR} if status == 422 else {"schema": ERROR_REF}
        responses[str(status)] = {"description": description, "content": {"application/json": media}}
    return responses


def _operation(operation: Operation, references: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "tags": [operation.tag],
        "summary": operation.summary,
        "operationId": operation.operation_id,
        "security": [dict.fromkeys(operation.security, [])],
        "responses": _responses(operation, references),
    }
    if operation.description:
        described["description"] = operation.description
    if operation.path_parameters:
        described["parameters"] = [
            {"name": name, "in": "path", "required": True, "description": text, "schema": {"type": "string"}}
            for name, text in operation.path_parameters.items()
        ]
    if operation.request is not None:
        described["requestBody"] = _request_body(operation, references)
    return described


def contract_document() -> dict[str, Any]:
    """The contract routes alone: ``paths``, ``tags`` and ``components`` of an OpenAPI 3.1 document."""
    references, definitions = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, references)
    return {
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": {**definitions, "Error": ERROR_SCHEMA},
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }


def _annotations_aside(schema: Any, *, names: bool = False) -> Any:
    """A schema without its ``default`` annotations (powertools leaves them out of its document),
    for telling whether two schemas of one name describe the same shape. ``names``: ``schema`` is
    a ``properties`` map, whose keys are field names, not keywords."""
    if isinstance(schema, list):
        return [_annotations_aside(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: _annotations_aside(value, names=key == "properties" and not names)
        for key, value in schema.items()
        if names or key != "default"
    }


def merged(document: dict[str, Any], contract: dict[str, Any] | None = None) -> dict[str, Any]:
    """``document`` (the staff API's) with the contract routes added. A schema or path of the
    same name in both must be the same one: anything else is a clash to resolve in the code."""
    contract = contract or contract_document()
    result = copy.deepcopy(document)
    for section in ("schemas", "securitySchemes"):
        target = result.setdefault("components", {}).setdefault(section, {})
        for name, value in contract["components"][section].items():
            if name in target and _annotations_aside(target[name]) != _annotations_aside(value):
                raise ValueError(f"components.{section}.{name} differs between the staff API and the contracts")
            target.setdefault(name, value)
    for path, operations in contract["paths"].items():
        clash = set(operations) & set(result.setdefault("paths", {}).get(path, {}))
        if clash:
            raise ValueError(f"{sorted(clash)} {path} is described twice")
        result["paths"].setdefault(path, {}).update(operations)
    known = {tag["name"] for tag in result.get("tags", [])}
    result["tags"] = result.get("tags", []) + [tag for tag in contract["tags"] if tag["name"] not in known]
    return result
