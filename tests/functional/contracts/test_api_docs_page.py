"""``/v1/docs``: the page people read the OpenAPI document in, served with its Swagger UI files by
the staff API's function itself, through the routes the template gives it."""

from __future__ import annotations

import json
import re

import pytest

from infra import template_model
from tests.events import api_event


def get(path, lambda_context, method="GET"):
    import staff_api

    return staff_api.handler(api_event(method, path), lambda_context)


def test_the_page_and_its_files_are_routed_to_the_staff_api_without_a_token():
    model = template_model.load()
    for path in ("/v1/docs", "/v1/docs/swagger-ui-bundle.js", "/v1/docs/swagger-ui.css"):
        route, _ = model.match_route("GET", path)
        assert (route.function, route.authorizer, route.api_key_required) == ("StaffApiFunction", None, False)


def test_the_page_loads_swagger_ui_and_the_document_from_the_platform_only(aws, lambda_context):
    answer = get("/v1/docs", lambda_context)

    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/html")
    page = answer["body"]
    assert "接口文档" in page
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r'url: "([^"]+)"', page)
    assert set(loaded) == {"docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "openapi.json"}
    assert not any("://" in link or link.startswith("//") for link in loaded)


@pytest.mark.parametrize(
    ("file", "content_type", "marker"),
    [
        ("swagger-ui-bundle.js", "application/javascript", "SwaggerUIBundle"),
        ("swagger-ui.css", "text/css", ".swagger-ui"),
    ],
)
def test_each_file_of_the_page_is_served_with_its_type(aws, lambda_context, file, content_type, marker):
    answer = get(f"/v1/docs/{file}", lambda_context)

    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith(content_type)
    assert marker in answer["body"]
    assert "max-age" in answer["headers"]["Cache-Control"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/docs/secrets.txt"), ("GET", "/v1/docs/..%2Fapp.py")])
def test_anything_else_under_the_page_is_not_found(aws, lambda_context, method, path):
    answer = get(path, lambda_context, method)

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"error": {"code": "not_found", "message": "没有这个接口"}}
