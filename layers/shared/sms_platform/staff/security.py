"""A signed-in staff member's own account security (账号安全): changing the password and
enrolling an authenticator app for TOTP. Both may be done while the account is restricted to
them (an expired or reset password, a permission administrator without TOTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import quote

from sms_platform.audit import trail
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.staff import account_store, identity
from sms_platform.staff.account_models import TOTP_ISSUER, check_password, snapshot
from sms_platform.staff.account_views import AccountOut, TotpSecretOut
from sms_platform.staff.accounts import account_out
from sms_platform.staff.context import StaffContext


def change_password(
    ctx: StaffContext, access_token: str, current_password: str, new_password: str, *, now: datetime
) -> AccountOut:
    identity.require_pool()
    check_password(new_password, ctx.username)
    if new_password == current_password:
        raise ValidationFailed("新密码不能与原密码相同", field="new_password")
    identity.change_password(access_token, current_password, new_password)
    account = account_store.require_account(ctx.username)
    saved = account_store.save(
        replace(account, password_changed_at=now, must_change_password=False), expected_version=account.version, at=now
    )
    trail.record(ctx, "account.password_changed", f"account:{ctx.username}", None, None, at=now)
    return account_out(saved, now=now)


def begin_totp(ctx: StaffContext, access_token: str) -> TotpSecretOut:
    """The secret for the authenticator app, and the otpauth URI its QR code carries. Nothing is
    recorded until the first code confirms it (``confirm_totp``)."""
    identity.require_pool()
    secret = identity.new_totp_secret(access_token)
    label = quote(f"{TOTP_ISSUER}:{ctx.username}")
    uri = f"otpauth://totp/{label}?secret={secret}&issuer={quote(TOTP_ISSUER)}&digits=6&period=30"
    return TotpSecretOut(secret_code=secret, otpauth_uri=uri, qr_code=qr_code(uri))


def qr_code(text: str) -> str:
    """``text`` as a QR code: an SVG image's ``data:`` URI, made here, so the secret it carries
    never leaves the platform (no QR service, no script from elsewhere)."""
    import segno  # deferred: only an enrolment draws one

    return segno.make(text, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def confirm_totp(ctx: StaffContext, access_token: str, code: str, *, now: datetime) -> AccountOut:
    """Verify the first code from the authenticator app and require TOTP at every sign-in."""
    identity.require_pool()
    identity.require_totp(access_token, code)
    account = account_store.require_account(ctx.username)
    saved = account_store.save(replace(account, totp_enabled=True), expected_version=account.version, at=now)
    trail.record(ctx, "account.totp_enrolled", f"account:{ctx.username}", snapshot(account), snapshot(saved), at=now)
    return account_out(saved, now=now)
