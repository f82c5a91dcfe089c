"""The carriers this deployment works with, by name.

Alibaba Cloud SMS is always there. Tencent Cloud SMS is there when its settings are:
``TENCENT_SMS_ENDPOINT``, ``TENCENT_SECRET_ARN`` and ``TENCENT_SMS_SDK_APP_ID`` (the template's
``TencentSmsSdkAppId`` defaults to ``unset`` until the bureau has an application at Tencent, so
that value counts as absent). The local platform configures both.
"""

from __future__ import annotations

from sms_platform.carrier.alibaba import carrier_client_from_environment
from sms_platform.carrier.base import Carrier, CarrierName
from sms_platform.foundation.settings import settings

# The order carriers are listed in (filing, the portal's lines): the first carrier first.
ORDER: tuple[str, ...] = (CarrierName.ALIBABA.value, CarrierName.TENCENT.value)

_NOT_SET_UP = ("", "unset")


def tencent_configured() -> bool:
    current = settings()
    present = bool(current.tencent_sms_endpoint and current.tencent_secret_arn)
    return present and current.tencent_sms_sdk_app_id.strip() not in _NOT_SET_UP


def configured_names() -> tuple[str, ...]:
    """The names of the carriers configured, first carrier first."""
    if tencent_configured():
        return ORDER
    return (CarrierName.ALIBABA.value,)


def carrier_named(name: str) -> Carrier:
    """The process's client of carrier ``name`` (one per process, made on first use)."""
    if name == CarrierName.TENCENT.value:
        # deferred: the Tencent client (TC3 signing, placeholders) costs ~6 ms of the staff
        # API's cold import, and only a filing or a send through Tencent needs it
        from sms_platform.carrier.tencent import tencent_client_from_environment

        return tencent_client_from_environment()
    if name == CarrierName.ALIBABA.value:
        return carrier_client_from_environment()
    raise ValueError(f"no carrier named {name!r}")
