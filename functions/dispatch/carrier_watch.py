"""The carriers' health watch (every minute): a carrier whose recent outcomes break the
thresholds is taken out of the rotation for a probation and brought back after it when healthy
(``sms_platform.reports.carrier_operations.watch``). Each run logs ``carriers_unhealthy``, which
the template's metric filter turns into the ``CarriersUnhealthy`` metric its alarm watches.

A run is a pure function of the counters and the states at its time: a failed run changes
nothing, and the next minute's judges again.
"""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first run.
settings.require(*settings.TABLES)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from sms_platform.reports import carrier_operations

    result = carrier_operations.watch(now=get_clock().now())
    return {"taken_out": result.taken_out, "returned": result.returned, "unhealthy": result.unhealthy}
