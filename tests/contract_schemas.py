"""Checking JSON against the schemas of an OpenAPI document, for the contract tests."""

from __future__ import annotations

from typing import Any


def errors(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """Why ``instance`` does not fit ``schema`` (a schema of ``document``, whose references point
    into its components); empty when it fits."""
    from jsonschema import Draft202012Validator

    root = {"$ref": "#/subject", "subject": schema, "components": document.get("components", {})}
    return [error.message for error in Draft202012Validator(root).iter_errors(instance)]


def request_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def answer_schema(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    return document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
