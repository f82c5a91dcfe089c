"""Serves the staff portal's static files from the portal bucket behind the API's own domain,
so the portal and the API share one origin (no CORS for the staff API, tokens stay first-party).

``GET /portal`` redirects to ``/portal/``; ``GET /portal/{proxy+}`` answers the object
``portal/<path>`` of ``PORTAL_BUCKET`` (a path ending in ``/`` means its ``index.html``). The
portal is published by copying ``portal/`` to ``s3://<PortalBucket>/portal/``.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import posixpath
from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("PORTAL_BUCKET")

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}


def object_key(proxy: str | None) -> str | None:
    """The bucket key for a requested path, or None when the path tries to leave the portal."""
    path = (proxy or "").lstrip("/")
    if not path or path.endswith("/"):
        path += "index.html"
    clean = posixpath.normpath(path)
    if clean.startswith("..") or clean.startswith("/") or "\\" in clean:
        return None
    return f"portal/{clean}"


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return {"statusCode": status, "headers": {"Content-Type": "application/json; charset=utf-8"}, "body": body}


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("httpMethod") not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "只支持 GET 请求")
    if event.get("resource") == "/portal":
        return {"statusCode": 302, "headers": {"Location": f"{event.get('path', '/portal')}/"}, "body": ""}
    key = object_key((event.get("pathParameters") or {}).get("proxy"))
    if key is None:
        return _error(404, "not_found", "没有这个文件")
    from sms_platform import aws

    s3 = aws.client("s3")
    try:
        found = s3.get_object(Bucket=settings.settings().portal_bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return _error(404, "not_found", "没有这个文件")
    data = found["Body"].read()
    kind = TYPES.get(posixpath.splitext(key)[1]) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    headers = {
        "Content-Type": f"{kind}; charset=utf-8" if kind.startswith(TEXT_TYPES) else kind,
        # The page shell is revalidated each time so a new portal version is picked up at once.
        "Cache-Control": "no-cache" if key.endswith(".html") else "max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    if kind.startswith(TEXT_TYPES):
        return {"statusCode": 200, "headers": headers, "body": data.decode("utf-8")}
    return {"statusCode": 200, "headers": headers, "body": base64.b64encode(data).decode(), "isBase64Encoded": True}
