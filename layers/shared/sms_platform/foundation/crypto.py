"""Envelope encryption and keyed hashing of phone and ID numbers.

- ``encrypt``/``decrypt``: AES-256-GCM with a data key that KMS generates and wraps. The wrapped
  key is kept in the control table under its id; a token names that id, so keys can be rotated
  without re-encrypting old tokens. Plain data keys live only in this process's memory.
- ``seal_many``/``open_many``: the same, for a list of numbers sealed together (a queued batch
  carries its hundred numbers as one token, so the dispatcher opens them with one call).
- ``keyed_hash``: HMAC-SHA256 with the platform's hash key, to find a record by its number
  without storing the number in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.foundation import secrets
from sms_platform.foundation.settings import settings

_TOKEN_PREFIX = "v1"  # noqa: S105 - a format tag, not a secret
_LIST_PREFIX = "v1h"  # a list sealed together (``seal_many``): the same, written in hex
_DATA_KEY_PK = "datakey"
_lock = threading.Lock()
_plain_keys: dict[str, bytes] = {}
_ciphers: dict[str, object] = {}  # AESGCM per key id: made once, reused for every value
_current_key_id: str | None = None
_LIST_SEPARATOR = "\n"  # never part of a number


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _load_key(key_id: str) -> bytes:
    with _lock:
        if key_id in _plain_keys:
            return _plain_keys[key_id]
    item = aws.table(settings().control_table).get_item(Key={"pk": _DATA_KEY_PK, "sk": key_id}).get("Item")
    if not item:
        raise ValueError("unknown data key")
    plain = aws.client("kms").decrypt(CiphertextBlob=bytes(item["wrapped"].value))["Plaintext"]
    with _lock:
        _plain_keys[key_id] = plain
    return plain


def _current_key() -> tuple[str, bytes]:
    """The data key new values are encrypted with: the newest in the key ring, made if none."""
    global _current_key_id
    if _current_key_id:
        return _current_key_id, _load_key(_current_key_id)
    table = aws.table(settings().control_table)
    found = table.query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": _DATA_KEY_PK},
        ScanIndexForward=False,
        Limit=1,
    ).get("Items", [])
    if found:
        key_id = found[0]["sk"]
    else:
        generated = aws.client("kms").generate_data_key(KeyId=settings().value("PLATFORM_KEY_ID"), KeySpec="AES_256")
        key_id = f"{uuid.uuid1().hex}"  # time-ordered, so the newest sorts last
        table.put_item(
            Item={"pk": _DATA_KEY_PK, "sk": key_id, "wrapped": generated["CiphertextBlob"]},
            ConditionExpression="attribute_not_exists(pk)",
        )
        with _lock:
            _plain_keys[key_id] = generated["Plaintext"]
    _current_key_id = key_id
    return key_id, _load_key(key_id)


def _cipher(key_id: str, key: bytes) -> Any:
    cipher = _ciphers.get(key_id)
    if cipher is None:
        # deferred: AES-GCM (~6 ms) loads with the first encryption, not with the subscribe handlers' import
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cipher = _ciphers[key_id] = AESGCM(key)
    return cipher


def _seal(plain: str) -> tuple[str, bytes]:
    """``plain`` encrypted with the current data key: that key's id, and the nonce and ciphertext."""
    key_id, key = _current_key()
    nonce = os.urandom(12)
    return key_id, nonce + _cipher(key_id, key).encrypt(nonce, plain.encode(), key_id.encode())


def _open(key_id: str, raw: bytes) -> str:
    cipher = _ciphers.get(key_id) or _cipher(key_id, _load_key(key_id))
    return cipher.decrypt(raw[:12], raw[12:], key_id.encode()).decode()


def encrypt(plain: str) -> str:
    key_id, sealed = _seal(plain)
    return f"{_TOKEN_PREFIX}.{key_id}.{_b64(sealed)}"


def decrypt(token: str) -> str:
    prefix, key_id, payload = token.split(".", 2)
    if prefix != _TOKEN_PREFIX:
        raise ValueError("unknown token version")
    return _open(key_id, _unb64(payload))


def seal_many(values: Sequence[str]) -> str:
    """One token holding every value, in order (values must not contain a line break).

    Its ciphertext is written in hex where ``encrypt`` writes base64: a queued batch's numbers
    are opened at every delivery, and ``bytes.fromhex`` reads a hundred numbers' worth in about
    1 us where base64 decoding takes 4.4 us. The token is half as long again (about 2,500
    characters for a hundred numbers, against 1,700)."""
    if any(_LIST_SEPARATOR in value for value in values):
        raise ValueError("a sealed value cannot contain a line break")
    key_id, sealed = _seal(_LIST_SEPARATOR.join(values))
    return f"{_LIST_PREFIX}.{key_id}.{sealed.hex()}"


def open_many(token: str) -> list[str]:
    """The values ``seal_many`` sealed, in the same order."""
    prefix, key_id, payload = token.split(".", 2)
    if prefix != _LIST_PREFIX:
        raise ValueError("not a sealed list")
    text = _open(key_id, bytes.fromhex(payload))
    return text.split(_LIST_SEPARATOR) if text else []


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    return secrets.hash_key()


def keyed_hash(value: str, *, purpose: str = "phone") -> str:
    """Stable, keyed, non-reversible index of a number; ``purpose`` keeps phones and IDs apart."""
    return hmac.new(_hash_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def reset() -> None:
    """Forget keys held in memory (tests start a new moto for each case)."""
    global _current_key_id
    with _lock:
        _plain_keys.clear()
        _ciphers.clear()
        _current_key_id = None
    _hash_key.cache_clear()
