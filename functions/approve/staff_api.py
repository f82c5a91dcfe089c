"""Lambda handler of the staff API (``/v1/staff/...`` and ``GET /v1/openapi.json``).

Only the router of the request's area is imported (see ``app``), so a cold start pays for
that area alone.
"""

from __future__ import annotations

from typing import Any

import app
from aws_lambda_powertools.logging import correlation_paths
from sms_platform.foundation import request_bodies, settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.PLATFORM)


@logger().inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return request_bodies.refusal(event) or app.resolve(event, context)
