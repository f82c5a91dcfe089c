"""The API's page for people, ``GET /v1/docs``: Swagger UI over ``/v1/openapi.json``.

Swagger UI's files are the ones the powertools package ships (the layer already pins it), served
by this function under ``/v1/docs/``: the page fetches nothing from anywhere but the platform.
Its links are relative, so the page works under a stage's path prefix (``/prod/v1/docs``) too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DOCS_PATH = "/v1/docs"
ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "application/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}
ASSET_CACHE = "public, max-age=86400"  # the files change only with the pinned package

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>接口文档 · 威海市社会保险业务短信服务平台</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <style>
    body { margin: 0; font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
    header { padding: 16px 24px; background: #1f4e79; color: #fff; }
    header h1 { margin: 0; font-size: 20px; }
    header p { margin: 6px 0 0; font-size: 14px; }
    header a { color: #fff; }
  </style>
</head>
<body>
  <header>
    <h1>威海市社会保险业务短信服务平台 · 接口文档</h1>
    <p>工作人员接口、12333 挂机短信、业务事件、订阅与支付、运营商推送、通讯录采集。
       机器可读的文档：<a href="openapi.json">/v1/openapi.json</a></p>
  </header>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      filter: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  </script>
</body>
</html>
"""


def _asset_directory() -> Path:
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger_ui

    return Path(swagger_ui.__file__).parent


@cache
def _asset(name: str) -> tuple[str, str] | None:
    """A Swagger UI file's text and content type, read once per environment; None if unknown."""
    known = ASSETS.get(name)
    if known is None:
        return None
    file, content_type = known
    return (_asset_directory() / file).read_text(encoding="utf-8"), content_type


def _answer(status: int, content_type: str, body: str, cache_control: str = "no-cache") -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
        "body": body,
        "isBase64Encoded": False,
    }


def is_docs_path(path: str) -> bool:
    return path == DOCS_PATH or path.startswith(DOCS_PATH + "/")


def resolve(event: dict[str, Any]) -> dict[str, Any]:
    """Answer a request under ``/v1/docs``: the page, one of its files, or the usual 404."""
    from sms_platform.foundation import http
    from sms_platform.foundation.errors import NotFound

    path = event.get("path") or ""
    if event.get("httpMethod") == "GET":
        if path == DOCS_PATH:
            return _answer(200, "text/html; charset=utf-8", PAGE)
        found = _asset(path[len(DOCS_PATH) + 1 :])
        if found is not None:
            return _answer(200, found[1], found[0], ASSET_CACHE)
    refused = http.error_body(NotFound("没有这个接口"))
    return _answer(404, http.JSON, json.dumps(refused, ensure_ascii=False))
