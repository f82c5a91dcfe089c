"""TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0 (CONTRACTS §8), as pure functions.

The canonical request is the method, ``/``, the (empty) query, the signed headers
(``content-type`` and ``host``, lowercase, each ``name:value\\n``), their names, and the hex
SHA-256 of the body. The string to sign is ``TC3-HMAC-SHA256``, the timestamp, the credential
scope ``<UTC date>/<service>/tc3_request`` and the hex SHA-256 of the canonical request. The key
is derived by HMAC-SHA256 from ``"TC3" + SecretKey`` over the date, the service and
``tc3_request``; the signature is the hex HMAC-SHA256 of the string to sign with it.

The Tencent simulator verifies requests with the same functions, so both sides share one
definition; the unit tests hold them to Tencent's published example.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
TERMINATOR = "tc3_request"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The credential scope's date: the UTC day of the timestamp (never a local one)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def canonical_request(
    body: bytes, host: str, *, content_type: str = CONTENT_TYPE, method: str = "POST", query: str = ""
) -> str:
    headers = f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
    return f"{method.upper()}\n/\n{query}\n{headers}\n{SIGNED_HEADERS}\n{sha256_hex(body)}"


def credential_scope(timestamp: int, service: str) -> str:
    return f"{utc_date(timestamp)}/{service}/{TERMINATOR}"


def string_to_sign(canonical: str, timestamp: int, service: str) -> str:
    scope = credential_scope(timestamp, service)
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"


def signature(secret_key: str, canonical: str, timestamp: int, service: str) -> str:
    """The hex signature of a canonical request made at ``timestamp`` for ``service``."""
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), utc_date(timestamp)), service), TERMINATOR)
    return hmac.new(signing_key, string_to_sign(canonical, timestamp, service).encode(), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str, secret_key: str, body: bytes, host: str, timestamp: int, service: str,
    *, content_type: str = CONTENT_TYPE,
) -> str:  # fmt: skip
    """The ``Authorization`` header of a JSON ``POST /`` with ``body`` to ``host``."""
    canonical = canonical_request(body, host, content_type=content_type)
    signed = signature(secret_key, canonical, timestamp, service)
    scope = credential_scope(timestamp, service)
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signed}"


@dataclass(frozen=True)
class ParsedAuthorization:
    secret_id: str
    date: str
    service: str
    signed_headers: str
    signature: str


def parse_authorization(header: str) -> ParsedAuthorization | None:
    """The parts of an ``Authorization`` header, or None when it is not a TC3 one."""
    algorithm, _, rest = (header or "").strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    parts: dict[str, str] = {}
    for piece in rest.split(","):
        name, _, value = piece.strip().partition("=")
        parts[name] = value
    credential = parts.get("Credential", "").split("/")
    if len(credential) != 4 or credential[3] != TERMINATOR or not parts.get("Signature"):
        return None
    return ParsedAuthorization(
        credential[0], credential[1], credential[2], parts.get("SignedHeaders", ""), parts["Signature"]
    )


def signed_headers(
    secret_id: str, secret_key: str, body: bytes, host: str, *,
    action: str, version: str, region: str, timestamp: int, service: str,
) -> dict[str, str]:  # fmt: skip
    """Every header of a signed API 3.0 call."""
    return {
        "Authorization": authorization(secret_id, secret_key, body, host, timestamp, service),
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": version,
        "X-TC-Region": region,
    }
