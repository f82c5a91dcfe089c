"""Request signing for the carrier's RPC API (Alibaba Cloud SMS, signature version 1.0).

The signature is Base64 HMAC-SHA1, keyed with ``secret + "&"``, over
``METHOD&%2F&percent(canonical query)``, where the canonical query is every parameter but
``Signature``, sorted by name, each name and value percent-encoded per RFC 3986. The carrier
simulator verifies requests with the same functions, so both sides share one definition.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

API_VERSION = "2017-05-25"
REGION_ID = "cn-hangzhou"
SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def percent_encode(text: Any) -> str:
    """RFC 3986 encoding of the UTF-8 bytes: only ``A-Z a-z 0-9 - _ . ~`` stay as they are.

    So a space is ``%20`` (not ``+``), ``*`` is ``%2A`` and ``~`` is kept, as the carrier expects.
    """
    return quote(str(text), safe="~")


def canonical_query(params: Mapping[str, Any]) -> str:
    """The sorted, encoded ``name=value`` pairs the signature covers (``Signature`` left out)."""
    pairs = sorted((str(name), str(value)) for name, value in params.items() if name != "Signature")
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in pairs)


def string_to_sign(params: Mapping[str, Any], method: str = "POST") -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(params: Mapping[str, Any], secret: str, method: str = "POST") -> str:
    """The ``Signature`` value for these parameters, sent with this HTTP method."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def format_timestamp(now: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, as the ``Timestamp`` parameter wants it."""
    if now.tzinfo is None:
        raise ValueError("the timestamp needs a timezone-aware datetime")
    return now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def signed_params(
    action: str,
    params: Mapping[str, Any],
    access_key_id: str,
    secret: str,
    *,
    now: datetime,
    nonce: str,
    method: str = "POST",
) -> dict[str, str]:
    """The action's parameters with the common ones and the ``Signature`` added.

    Parameters whose value is ``None`` are left out (the carrier treats them as absent).
    """
    signed = {
        "AccessKeyId": access_key_id,
        "Action": action,
        "Format": "JSON",
        "RegionId": REGION_ID,
        "SignatureMethod": SIGNATURE_METHOD,
        "SignatureNonce": nonce,
        "SignatureVersion": SIGNATURE_VERSION,
        "Timestamp": format_timestamp(now),
        "Version": API_VERSION,
    }
    signed.update({name: str(value) for name, value in params.items() if value is not None})
    signed["Signature"] = sign(signed, secret, method)
    return signed
