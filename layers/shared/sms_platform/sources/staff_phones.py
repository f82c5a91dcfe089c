"""A staff member's own phone, proved with a code sent to it (``verification_codes``: 5 codes a day
at most, by the platform's verification-code template): where an author's test sends go before
a request is approved, and where a temporary password goes after a reset (``password_delivery``).
The number is kept encrypted, with its keyed hash and masked form (``send_request_store``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict
from sms_platform.foundation.identifiers import mask_mobile, normalize_mobile
from sms_platform.sending.lanes import SmsKind
from sms_platform.sources import channel_sends, send_request_store, verification_codes
from sms_platform.staff.context import StaffContext


class StaffPhoneOut(BaseModel):
    # No docstring: pydantic would put it into the OpenAPI document.
    phone_masked: str
    expires_in: int | None = None
    verified_at: str | None = None


def verified_number(account_id: str) -> tuple[str, str] | None:
    """The number an account's owner proved with a code, in clear and masked (None when there is
    none): where their test sends go, and their temporary password after a reset
    (``password_delivery``)."""
    item = send_request_store.verified_phone(account_id)
    return (crypto.decrypt(item["phone_token"]), item["phone_masked"]) if item else None


def _verification_template(now: datetime) -> Any:
    # deferred: the channels' settings live with the subscriptions, which a cold staff request
    # that only reads its own account (GET /me, through the send-request routes) must not load
    from sms_platform.sources import subscription_store

    template_id = subscription_store.settings()["otp_template_id"]
    template = channel_sends.active_template(template_id, now) if template_id else None
    if template is None:
        raise Conflict("验证码短信模板尚未配置，暂时无法验证手机号")
    return template


def request_phone_code(ctx: StaffContext, raw_phone: str, *, now: datetime) -> StaffPhoneOut:
    """Send a 6-digit code to the number the author wants test sends on (``verification_codes``:
    5 a day at most)."""
    phone = normalize_mobile(raw_phone, field="phone")
    template = _verification_template(now)
    sequence = send_request_store.count_code_today(ctx.account_id, now)
    code = verification_codes.new_code()
    send_request_store.put_code(ctx.account_id, code, now, phone_token=crypto.encrypt(phone),
                                phone_hash=crypto.keyed_hash(phone), phone_masked=mask_mobile(phone))  # fmt: skip
    source = f"testphone:{ctx.account_id[:60]}:{now.astimezone(BEIJING).date().isoformat()}:{sequence}"
    channel_sends.send(SmsKind.SYSTEM, source, template, [(phone, {"code": code})])
    return StaffPhoneOut(phone_masked=mask_mobile(phone), expires_in=int(verification_codes.TTL.total_seconds()))


def verify_phone_code(ctx: StaffContext, code: str, *, now: datetime) -> StaffPhoneOut:
    item = send_request_store.check_code(ctx.account_id, code, now)
    send_request_store.confirm_phone(ctx.account_id, item, now)
    return StaffPhoneOut(phone_masked=item["phone_masked"], verified_at=now.isoformat())
