"""Tencent Cloud SMS API 3.0 (version 2021-01-11) as Tencent answers it: the signed headers and
their TC3-HMAC-SHA256 check (the 300 s rule), the four actions the platform uses, their refusals
and the shapes of their answers.

``TencentCarrier`` holds what the carrier knows (filed templates, the messages it accepted,
recent sends per number) and answers one request. How requests arrive and how they fail on the
way is the server's business (``server.py``); what happens to a message after it is accepted,
the receipts' (``receipts.py``).
"""

from __future__ import annotations

import hmac
import itertools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sms_platform.carrier import tc3
from sms_platform.foundation.clock import BEIJING

from infra.simulator_base import DAY_FORMAT, MOBILE, ApiError, Recorded, SimulatedCarrier

API_VERSION = "2021-01-11"
SERVICE = "sms"
TIMESTAMP_TOLERANCE_SECONDS = 300
MAX_NUMBERS = 200
MAX_TEMPLATE_LENGTH = 500
MAX_PULL_LIMIT = 100
MAX_SESSION_CONTEXT_BYTES = 511

# StatusCode in DescribeSmsTemplateList.
APPROVED, UNDER_REVIEW, REJECTED = 0, 1, -1
# What a message's receipt reports.
WAITING, DELIVERED, FAILED = "waiting", "SUCCESS", "FAIL"

_POSITION = re.compile(r"\{(\d+)\}")
_URL = re.compile(r"(https?://|www\.)|([a-z0-9-]+\.(com|cn|net|org)\b)", re.IGNORECASE)


def parts_of(text: str | None) -> int:
    length = len(text or "")
    return 1 if length <= 70 else math.ceil(length / 67)


@dataclass
class SentMessage(Recorded):
    """One message the carrier accepted for one number."""

    phone: str
    sign_name: str
    template_id: str
    params: list[str]
    session_context: str
    serial_no: str
    sent_at: datetime
    content: str | None
    fee: int
    status: str = WAITING
    err_code: str = ""
    reported_at: datetime | None = None

    @property
    def out_id(self) -> str:  # the platform's reference, as the Alibaba simulator names it
        return self.session_context

    @property
    def template_ref(self) -> str:  # the template it was sent with, as both simulators name it
        return self.template_id


@dataclass
class FiledTemplate:
    template_id: str
    sms_type: int
    name: str
    content: str
    remark: str
    filed_at: datetime
    status: int | None = None  # fixed by ``file_template``; otherwise decided by the review delay


class TencentError(ApiError):
    """A ``Response.Error``, as Tencent gives it (HTTP 200 unless ``status`` says otherwise)."""


@dataclass(frozen=True)
class Request:
    """One API call: its headers (names lowercase) and raw body."""

    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class TencentCarrier(SimulatedCarrier):
    """What the carrier knows and how it answers the API's actions.

    ``secret_keys`` maps SecretId to SecretKey; ``sdk_app_id`` is the one application it knows.
    The keyword arguments are ``SimulatedCarrier``'s; here a template holding a named ``${...}``
    variable is rejected too, and a number over a frequency limit is refused alone."""

    def __init__(
        self, secret_keys: dict[str, str] | None, sdk_app_id: str, clock: Any, *, seed: int, review_delay: float,
        reject_words: tuple[str, ...], per_minute_limit: int, per_day_limit: int, param_max_length: int,
        strict_templates: bool,
    ) -> None:  # fmt: skip
        super().__init__(
            clock, seed=seed, review_delay=review_delay, reject_words=reject_words, per_minute_limit=per_minute_limit,
            per_day_limit=per_day_limit, param_max_length=param_max_length, strict_templates=strict_templates,
        )  # fmt: skip
        self.secret_keys = dict(secret_keys or {})
        self.sdk_app_id = sdk_app_id
        self.sent: list[SentMessage] = []
        self.templates: dict[str, FiledTemplate] = {}
        self._serials = itertools.count(self._rng.randrange(10**17, 9 * 10**17))
        self._template_ids = itertools.count(self._rng.randrange(10**6, 9 * 10**6))

    # -- what tests ask of the carrier -------------------------------------------------------

    def file_template(self, template_id: str, content: str, *, status: int = APPROVED, sms_type: int = 0) -> None:
        """Know a positional template as if filed and reviewed, so sends with it are checked and rendered."""
        with self._lock:
            self.templates[str(template_id)] = FiledTemplate(
                str(template_id), sms_type, str(template_id), content, "", self._now(), status
            )

    # -- a request ---------------------------------------------------------------------------

    def request_id(self) -> str:
        return self._random_uuid()

    def authenticate(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The action and its parameters of a request whose headers, signature and timestamp
        hold; refusals in that order, as Tencent's gateway makes them."""
        action, stamp = request.header("X-TC-Action"), request.header("X-TC-Timestamp")
        if not action or not stamp or not request.header("Authorization"):
            raise TencentError("MissingParameter", "X-TC-Action, X-TC-Timestamp and Authorization are required.")
        if request.header("X-TC-Version") != API_VERSION:
            raise TencentError("NoSuchVersion", "The requested version does not exist or the API is not available.")
        if not stamp.isdigit():
            raise TencentError("InvalidParameter", "X-TC-Timestamp must be Unix seconds.")
        parsed = tc3.parse_authorization(request.header("Authorization"))
        if parsed is None or parsed.service != SERVICE or parsed.signed_headers != tc3.SIGNED_HEADERS:
            raise TencentError("AuthFailure.InvalidAuthorization", "Authorization is not a valid TC3-HMAC-SHA256 one.")
        self._check_signature(request, parsed, int(stamp))
        if abs(self._now().timestamp() - int(stamp)) > TIMESTAMP_TOLERANCE_SECONDS:
            raise TencentError("AuthFailure.SignatureExpire", "The signature expired: the timestamp is over 300 s off.")
        try:
            params = json.loads(request.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise TencentError("InvalidParameter", "The body is not valid UTF-8 JSON.") from None
        if not isinstance(params, dict):
            raise TencentError("InvalidParameter", "The body must be a JSON object.")
        return action, params

    def _check_signature(self, request: Request, parsed: tc3.ParsedAuthorization, stamp: int) -> None:
        secret_key = self.secret_keys.get(parsed.secret_id)
        if secret_key is None:
            raise TencentError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        if parsed.date != tc3.utc_date(stamp):
            raise TencentError("AuthFailure.SignatureFailure", "The credential date does not match X-TC-Timestamp.")
        content_type = request.header("Content-Type")
        canonical = tc3.canonical_request(request.body, request.header("Host"), content_type=content_type)
        expected = tc3.signature(secret_key, canonical, stamp, SERVICE)
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            raise TencentError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")

    def act(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """The answer of ``action`` (without RequestId)."""
        actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "SendSms": self._send_sms,
            "AddSmsTemplate": self._add_sms_template,
            "DescribeSmsTemplateList": self._describe_sms_template_list,
            "PullSmsSendStatusByPhoneNumber": self._pull_status,
        }
        found = actions.get(action)
        if found is None:
            raise TencentError("InvalidAction", f"The action {action} does not exist.")
        return found(params)

    # -- sending -----------------------------------------------------------------------------

    def _send_sms(self, params: dict[str, Any]) -> dict[str, Any]:
        numbers = _list(params, "PhoneNumberSet")
        if len(numbers) > MAX_NUMBERS:
            raise TencentError("LimitExceeded.PhoneNumberCountLimit", "单次请求最多支持200个手机号")
        self._check_app(params)
        sign_name = _text(params, "SignName")
        if not 2 <= len(sign_name) <= 12 or any(c in sign_name for c in "【】[]"):
            raise TencentError("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
        context = str(params.get("SessionContext") or "")
        if len(context.encode("utf-8")) > MAX_SESSION_CONTEXT_BYTES:
            raise TencentError("InvalidParameterValue.SessionContextLengthLimit", "SessionContext 长度超过限制")
        values = [str(v) for v in (params.get("TemplateParamSet") or [])]
        with self._lock:
            now = self._now()
            template = self._usable_template(_text(params, "TemplateId"), now)
            content = self._rendered(template, sign_name, values)
            accepted: list[SentMessage] = []
            statuses = [self._one(str(n), sign_name, template, values, context, content, now, accepted)
                        for n in numbers]  # fmt: skip
            if accepted:  # one request's receipts come back together, as Tencent batches them
                self._accepted(accepted)
        return {"SendStatusSet": statuses}

    def _check_app(self, params: dict[str, Any]) -> None:
        if str(params.get("SmsSdkAppId") or "") != self.sdk_app_id:
            raise TencentError("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId 不存在")

    def _usable_template(self, template_id: str, now: datetime) -> FiledTemplate | None:
        template = self.templates.get(template_id)
        if template is None and self.strict_templates:
            raise TencentError("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        if template is not None and self._template_status(template, now) != APPROVED:
            raise TencentError("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        return template

    def _rendered(self, template: FiledTemplate | None, sign_name: str, values: list[str]) -> str | None:
        for value in values:
            if _URL.search(value):
                code = "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"
                raise TencentError(code, "禁止在模板变量中使用URL")
            if len(value) > self.param_max_length:
                raise TencentError("InvalidParameterValue.TemplateParameterLengthLimit", "单个模板变量字符数超过限制")
        if template is None:
            return None
        if len(values) != len(_POSITION.findall(template.content)):
            raise TencentError("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "模板参数个数与模板不匹配")
        return f"【{sign_name}】" + _POSITION.sub(lambda m: values[int(m.group(1)) - 1], template.content)

    def _one(
        self, number: str, sign_name: str, template: FiledTemplate | None, values: list[str], context: str,
        content: str | None, now: datetime, accepted: list[SentMessage],
    ) -> dict[str, Any]:  # fmt: skip
        """One number's entry of ``SendStatusSet``: refused alone, or accepted and recorded."""
        match = MOBILE.match(number.strip())
        if not match:
            return _status(number, "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误", "", 0, context)
        phone = match.group(1)
        template_id = template.template_id if template else "?"
        refusal = self._over_limit(phone, template_id, now)
        if refusal:
            return _status(number, refusal, "号码发送频率超过限制", "", 0, context)
        fee = parts_of(content)
        serial = f"2433:{next(self._serials)}"
        message = SentMessage(phone, sign_name, template_id, values, context, serial, now, content, fee)
        self._remember(message, template_id, now)
        accepted.append(message)
        return _status(number, "Ok", "send success", serial, fee, context)

    def _over_limit(self, phone: str, template_id: str, now: datetime) -> str | None:
        in_minute, in_day = self._recent_sends(phone, template_id, now)
        if in_minute >= self.per_minute_limit:
            return "LimitExceeded.DeliveryFrequencyLimit"
        if in_day >= self.per_day_limit:
            return "LimitExceeded.PhoneNumberDailyLimit"
        return None

    # -- templates and status pulls ----------------------------------------------------------

    def _add_sms_template(self, params: dict[str, Any]) -> dict[str, Any]:
        content, name = _text(params, "TemplateContent"), _text(params, "TemplateName")
        if params.get("SmsType") not in (0, 1, 2, 3):
            raise TencentError("InvalidParameterValue.InvalidSmsType", "SmsType 取值不合法")
        if params.get("International", 0) != 0:
            raise TencentError("UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone", "仅支持国内短信模板")
        if len(content) > MAX_TEMPLATE_LENGTH:
            raise TencentError("InvalidParameterValue.TemplateContentLengthLimit", "模板内容超过长度限制")
        remark = _text(params, "Remark")
        with self._lock:
            template_id = str(next(self._template_ids))
            self.templates[template_id] = FiledTemplate(template_id, int(params["SmsType"]), name, content, remark,
                                                        self._now())  # fmt: skip
        return {"AddTemplateStatus": {"TemplateId": template_id}}

    def _template_status(self, template: FiledTemplate, now: datetime) -> int:
        if template.status is not None:
            return template.status
        if now - template.filed_at < timedelta(seconds=self.review_delay):
            return UNDER_REVIEW
        return REJECTED if self._review_reply(template) else APPROVED

    def _review_reply(self, template: FiledTemplate) -> str:
        if "${" in template.content:
            return "模板变量格式应为{1}、{2}……"
        return "模板内容含有违规词语" if any(w in template.content for w in self.reject_words) else ""

    def _describe_sms_template_list(self, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("TemplateIdSet") or []
        if not isinstance(ids, list) or len(ids) > 100:
            raise TencentError("InvalidParameterValue.InvalidParameters", "TemplateIdSet 须为不超过100个的数组")
        found = []
        with self._lock:
            now = self._now()
            for template_id in ids:
                template = self.templates.get(str(template_id))
                if template is None:
                    continue
                status = self._template_status(template, now)
                found.append({
                    "TemplateId": int(template.template_id) if template.template_id.isdigit() else template.template_id,
                    "International": 0, "StatusCode": status, "TemplateName": template.name,
                    "ReviewReply": self._review_reply(template) if status == REJECTED else "",
                    "CreateTime": int(template.filed_at.timestamp()), "TemplateContent": template.content,
                })  # fmt: skip
        return {"DescribeTemplateStatusSet": found}

    def _pull_status(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_app(params)
        match = MOBILE.match(_text(params, "PhoneNumber").strip())
        if not match:
            raise TencentError("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误")
        try:
            begin, end, limit = int(params["BeginTime"]), int(params["EndTime"]), int(params.get("Limit", 100))
        except (KeyError, TypeError, ValueError):
            raise TencentError("MissingParameter", "BeginTime、EndTime 须为 Unix 秒") from None
        if not 0 < limit <= MAX_PULL_LIMIT:
            raise TencentError("InvalidParameterValue.InvalidParameters", "Limit 须在 1 到 100 之间")
        with self._lock:
            found = [m for m in self._by_phone.get(match.group(1), [])
                     if m.status != WAITING and begin <= m.sent_at.timestamp() <= end + 1]  # fmt: skip
            return {"PullSmsSendStatusSet": [_pulled(m) for m in found[:limit]]}


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise TencentError("MissingParameter", f"缺少参数 {name}")
    return str(value)


def _list(params: dict[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if not isinstance(value, list) or not value:
        raise TencentError("MissingParameter", f"缺少参数 {name}")
    return value


def _status(number: str, code: str, message: str, serial: str, fee: int, context: str) -> dict[str, Any]:
    match = MOBILE.match(number.strip())
    phone = f"+86{match.group(1)}" if match else number
    return {"SerialNo": serial, "PhoneNumber": phone, "Fee": fee, "SessionContext": context, "Code": code,
            "Message": message, "IsoCode": "CN" if match else "DEF"}  # fmt: skip


def _pulled(m: SentMessage) -> dict[str, Any]:
    return {
        "UserReceiveTime": int((m.reported_at or m.sent_at).timestamp()),
        "CountryCode": "86",
        "SubscriberNumber": m.phone,
        "PhoneNumber": f"+86{m.phone}",
        "SerialNo": m.serial_no,
        "ReportStatus": m.status,
        "Description": "用户短信送达成功" if m.status == DELIVERED else m.err_code,
        "SessionContext": m.session_context,
    }


def beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime(DAY_FORMAT)


def utc_seconds(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp())
