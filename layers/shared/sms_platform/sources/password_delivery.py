"""A reset password reaches its owner, not the administrator who reset it (R13: own passwords).

A permission administrator who saw another account's temporary password could sign in as that
account (a reviewer, say) and act in its name. So a reset sends the temporary password by SMS to
the phone the account's owner proved with a code (their test-send phone, ``send_requests``), as
a platform message on the ``high`` lane like the verification codes: in the ``system`` template
IT operations chose for it, which declares ``${password}``, e.g.
``您的平台账号临时密码为：${password}，首次登录须修改。如非本人操作请联系市社保中心。``, signed with
its office's signature. The administrator is told only that it was sent, and to which number,
masked. An account whose owner has verified no phone gets its password in person: the
administrator is shown it once, to hand over. Either way the account must set its own password
at its first sign-in (the user is left in Cognito's FORCE_CHANGE_PASSWORD).

The chosen template is kept in CONTROL_TABLE (``config`` / ``accounts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation.errors import Conflict, ValidationFailed
from sms_platform.foundation.settings import settings as platform_settings
from sms_platform.sending.lanes import SmsKind
from sms_platform.sources import channel_sends
from sms_platform.staff import accounts
from sms_platform.staff.account_models import snapshot, temporary_password
from sms_platform.staff.context import StaffContext

SMS = "sms"
IN_PERSON = "in_person"
VARIABLE = "password"
_SETTINGS_KEY = {"pk": "config", "sk": "accounts"}


def _control() -> Any:
    return aws.table(platform_settings().control_table)


# Models without docstrings: pydantic would put them into the OpenAPI document as descriptions.


class AccountSettings(BaseModel):
    password_template_id: str | None = Field(
        default=None, max_length=64, description="临时密码短信模板（平台系统消息类，含变量 password）；空则只能当面交付"
    )


class PasswordResetOut(BaseModel):
    # What the administrator who reset a password learns: how it reaches the owner, and the
    # temporary password itself only when it is to be handed over in person.
    username: str
    delivery: Literal["sms", "in_person"] = Field(
        description="sms：临时密码已通过短信发送至本人已验证的手机；in_person：本人没有已验证的手机，请当面交给本人"
    )
    phone_masked: str | None = Field(default=None, description="接收临时密码短信的手机号（已脱敏），仅 sms 时有")
    temporary_password: str | None = Field(
        default=None, description="临时密码，仅 in_person 时给出且仅显示这一次；首次登录须修改", repr=False
    )


def _settings() -> AccountSettings:
    item = _control().get_item(Key=_SETTINGS_KEY, ConsistentRead=True).get("Item") or {}
    return AccountSettings(password_template_id=item.get("password_template_id"))


def account_settings(ctx: StaffContext) -> AccountSettings:
    """The template temporary passwords are sent in, as IT operations chose it."""
    return _settings()


def set_settings(ctx: StaffContext, password_template_id: str | None, *, now: datetime) -> AccountSettings:
    """Choose the template of temporary-password SMS: a platform ``system`` one (None: none, so
    every reset is handed over in person). Audited with the choice before and after."""
    if password_template_id is not None and channel_sends.template_category(password_template_id) != "system":
        raise ValidationFailed("应选择“平台系统消息”类别的模板", field="password_template_id")
    before = _settings()
    _control().put_item(
        Item={**_SETTINGS_KEY, "password_template_id": password_template_id, "updated_by": ctx.account_id,
              "updated_at": now.isoformat()}
    )  # fmt: skip
    after = _settings()
    trail.record(ctx, "account_settings.update", "account_settings", before.model_dump(), after.model_dump(),
                 ctx.office, at=now)  # fmt: skip
    return after


@dataclass(frozen=True)
class Delivery:
    """How one reset's temporary password reaches its owner."""

    method: str  # SMS or IN_PERSON
    phone_masked: str | None = None
    phone: str | None = field(default=None, repr=False)  # in clear: never logged or answered
    template: Any = field(default=None, repr=False)  # channel_sends.TemplateUse

    def detail(self) -> dict[str, Any]:
        """What the audit trail and the administrator learn: the way, and the number masked."""
        if self.method == SMS:
            return {"delivery": SMS, "phone_masked": self.phone_masked}
        return {"delivery": IN_PERSON}


def _template(now: datetime) -> Any:
    template_id = _settings().password_template_id
    template = channel_sends.active_template(template_id, now, category="system") if template_id else None
    if template is None:
        # Refused rather than shown to the administrator: the owner has a phone to receive it.
        raise Conflict("该账号已验证手机号，但临时密码短信模板尚未配置或未启用，请联系信息中心运维人员配置后再重置")
    return template


def _values(template: Any, password: str) -> dict[str, str]:
    """The template's values for ``password``; Conflict when the template cannot carry it."""
    try:
        return channel_sends.check_values(template, {VARIABLE: password})
    except ValidationFailed as error:  # its message names the variable, never the value
        raise Conflict(f"临时密码短信模板须只含变量 ${{{VARIABLE}}}（文本）：{error.message}") from None


def plan(account_id: str, password: str, now: datetime) -> Delivery:
    """How ``password`` will reach the owner of ``account_id``, checked before anything changes:
    by SMS when they verified a phone (the template must be in force and take the password),
    else in person."""
    # deferred: staff_phones brings the subscription store and models (~70 ms), which the staff API's
    # cold request to the accounts area leaves out (tests/functional/sending/test_staff_dispatch.py)
    from sms_platform.sources import staff_phones

    found = staff_phones.verified_number(account_id)
    if found is None:
        return Delivery(IN_PERSON)
    template = _template(now)
    _values(template, password)
    phone, masked = found
    return Delivery(SMS, phone_masked=masked, phone=phone, template=template)


def send(delivery: Delivery, password: str, source_id: str) -> None:
    """Queue the SMS of an SMS delivery (nothing for one in person) on the ``high`` lane."""
    if delivery.method != SMS:
        return
    values = _values(delivery.template, password)
    queued = channel_sends.send(SmsKind.SYSTEM, source_id, delivery.template, [(delivery.phone, values)])
    if queued != 1:
        raise Conflict("临时密码短信未能排队发送，请重新重置")


def reset_password(ctx: StaffContext, username: str, *, now: datetime) -> PasswordResetOut:
    """A new temporary password for ``username``, sent by SMS to the owner's verified phone (or,
    with none, shown once to the administrator to hand over in person); the user must change it
    at the next sign-in. The audit entry records the delivery, never the password."""
    account = accounts.account_to_reset(ctx, username)
    password = temporary_password()
    # Planned before anything changes: a reset the SMS could not carry leaves the old password.
    delivery = plan(account.account_id, password, now)
    saved = accounts.set_temporary_password(account, password, now=now)
    send(delivery, password, f"pwreset:{account.username}:{saved.version}")
    after = {**(snapshot(saved) or {}), **delivery.detail()}
    target = f"account:{account.username}"
    trail.record(ctx, "account.reset_password", target, snapshot(account), after, at=now)
    shown = password if delivery.method == IN_PERSON else None
    return PasswordResetOut(
        username=account.username,
        delivery=delivery.method,
        phone_masked=delivery.phone_masked,
        temporary_password=shown,
    )
