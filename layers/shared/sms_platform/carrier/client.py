"""The Alibaba client under the name the rest of the platform imports it by (``alibaba``), with
what all carriers share (``base``)."""

from sms_platform.carrier.alibaba import (
    LIMITED_CODES,
    MAX_BATCH_NUMBERS,
    MAX_OUT_ID_LENGTH,
    MAX_PAGE_SIZE,
    MAX_SEND_SMS_NUMBERS,
    RETRY_CODES,
    CarrierClient,
    carrier_client_from_environment,
    classify,
    template_param_json,
)
from sms_platform.carrier.base import (
    DEFAULT_TIMEOUT,
    POOL_SIZE,
    CarrierResult,
    Outcome,
    classify_exception,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "LIMITED_CODES",
    "MAX_BATCH_NUMBERS",
    "MAX_OUT_ID_LENGTH",
    "MAX_PAGE_SIZE",
    "MAX_SEND_SMS_NUMBERS",
    "POOL_SIZE",
    "RETRY_CODES",
    "CarrierClient",
    "CarrierResult",
    "Outcome",
    "carrier_client_from_environment",
    "classify",
    "classify_exception",
    "template_param_json",
]
