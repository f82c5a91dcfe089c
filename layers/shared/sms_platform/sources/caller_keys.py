"""What the platform keeps about an outside system's API key besides its grants (CONTRACTS §7):
its kind (``live``, or ``test``: accepted where its live twin is, its messages never sent), and
its callback URL with the secret that signs each callback. IT operations set them with
``python -m infra.keys`` (issue --kind test, set-callback), audited in the operator's name.

Storage in CONTROL_TABLE: ``pk=callerkey#{api_key_id}``, ``sk=key``; the callback secret is kept
encrypted (``crypto.encrypt``). A key without an item is a live key without a callback.
"""

from __future__ import annotations

import secrets as random_values
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import NotFound, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.staff.context import StaffContext

KeyKind = Literal["live", "test"]
MAX_URL_LENGTH = 2048


class CallerKey(BaseModel):
    api_key_id: str
    kind: KeyKind = "live"
    name: str = ""
    twin: str | None = None  # a test key's live key: the grants it is checked against
    callback_url: str | None = None
    callback_secret_token: str | None = None  # encrypted
    updated_at: str | None = None

    @property
    def test(self) -> bool:
        return self.kind == "test"

    @property
    def grant_holder(self) -> str:
        """The key whose grants this key's calls are checked against (a test key's live twin)."""
        return self.twin if self.test and self.twin else self.api_key_id

    def callback_secret(self) -> str | None:
        return crypto.decrypt(self.callback_secret_token) if self.callback_secret_token else None

    def audited(self) -> dict[str, Any]:
        """What the audit trail records: the URL without its query (it may carry a token), never
        the secret."""
        return {"kind": self.kind, "name": self.name, "twin": self.twin, "callback": url_shown(self.callback_url)}


def url_shown(url: str | None) -> str | None:
    """A callback URL as logs and the audit trail may show it: scheme, host and path only."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise ValidationFailed("回调地址必须是完整的 http(s) 地址，例如 https://example.gov.cn/sms/status", field="url")
    return url


# ---------------------------------------------------------------- store


def _table() -> Any:
    return aws.table(settings().control_table)


def _key(api_key_id: str) -> dict[str, str]:
    return {"pk": f"callerkey#{api_key_id}", "sk": "key"}


def get(api_key_id: str | None) -> CallerKey | None:
    """The key's record, or None for an unknown key (a live key with no callback)."""
    if not api_key_id:
        return None
    item = _table().get_item(Key=_key(api_key_id)).get("Item")
    if not item:
        return None
    return CallerKey.model_validate({name: value for name, value in item.items() if name in CallerKey.model_fields})


def of(api_key_id: str | None) -> CallerKey | None:
    """The key as its calls are handled: its record, or a live key's defaults; None without a key."""
    if not api_key_id:
        return None
    return get(api_key_id) or CallerKey(api_key_id=api_key_id)


def _put(key: CallerKey) -> None:
    item = {**_key(key.api_key_id), **key.model_dump(exclude_none=True)}
    _table().put_item(Item=item)


# ---------------------------------------------------------------- what IT operations do


def register(
    ctx: StaffContext, api_key_id: str, *, kind: KeyKind, name: str, twin: str | None, now: datetime
) -> CallerKey:
    """Record a newly issued key's kind (and a test key's live twin)."""
    before = get(api_key_id)
    key = (before or CallerKey(api_key_id=api_key_id)).model_copy(
        update={"kind": kind, "name": name, "twin": twin if kind == "test" else None, "updated_at": now.isoformat()}
    )
    _put(key)
    trail.record(ctx, "api_key.issue", f"api_key:{api_key_id}", before.audited() if before else None, key.audited(),
                 ctx.office, at=now)  # fmt: skip
    return key


def set_callback(ctx: StaffContext, api_key_id: str, url: str, *, now: datetime) -> tuple[CallerKey, str]:
    """Give the key a callback URL and a new callback secret; the key and the secret (shown once)."""
    url = check_url(url)
    before = get(api_key_id) or CallerKey(api_key_id=api_key_id)
    secret = random_values.token_urlsafe(32)
    key = before.model_copy(
        update={"callback_url": url, "callback_secret_token": crypto.encrypt(secret), "updated_at": now.isoformat()}
    )
    _put(key)
    trail.record(ctx, "api_key.callback", f"api_key:{api_key_id}", before.audited(), key.audited(), ctx.office,
                 at=now)  # fmt: skip
    return key, secret


def clear_callback(ctx: StaffContext, api_key_id: str, *, now: datetime) -> CallerKey:
    before = get(api_key_id)
    if before is None or not before.callback_url:
        raise NotFound("该 API 密钥没有回调地址")
    key = before.model_copy(update={"callback_url": None, "callback_secret_token": None, "updated_at": now.isoformat()})
    _put(key)
    trail.record(ctx, "api_key.callback", f"api_key:{api_key_id}", before.audited(), key.audited(), ctx.office,
                 at=now)  # fmt: skip
    return key


def carry_over(ctx: StaffContext, from_key_id: str, to_key_id: str, *, now: datetime) -> CallerKey | None:
    """Give a rotated key's replacement what the platform kept about it (kind, twin, callback URL
    and secret), so the system's receiver goes on checking the same signatures; None when there
    was nothing to carry."""
    held = get(from_key_id)
    if held is None:
        return None
    key = held.model_copy(update={"api_key_id": to_key_id, "updated_at": now.isoformat()})
    _put(key)
    trail.record(ctx, "api_key.carry_over", f"api_key:{to_key_id}", {"from": from_key_id}, key.audited(), ctx.office,
                 at=now)  # fmt: skip
    return key
