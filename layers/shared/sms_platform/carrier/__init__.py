"""The carrier (Alibaba Cloud SMS API): request signing and a client whose answers are outcomes."""

from sms_platform.carrier.client import (
    CarrierClient,
    CarrierResult,
    Outcome,
    carrier_client_from_environment,
)

__all__ = ["CarrierClient", "CarrierResult", "Outcome", "carrier_client_from_environment"]
