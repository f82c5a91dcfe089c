"""The Alibaba Cloud SMS API (dysmsapi 2017-05-25) as the carrier answers it: the common
parameters and their signature check, the five actions, their refusals and the shapes of
their answers.

``Carrier`` holds what the carrier knows (filed templates, the messages it accepted, recent
sends per number, used nonces) and answers one request's parameters. How requests arrive and
how they fail on the way is the server's business (``server.py``); what happens to a message
after it is accepted, the receipts' (``receipts.py``).
"""

from __future__ import annotations

import hmac
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sms_platform.carrier import signing
from sms_platform.foundation.clock import BEIJING

from infra.simulator_base import DAY_FORMAT, MOBILE, ApiError, Recorded, SimulatedCarrier

TIMESTAMP_TOLERANCE = timedelta(minutes=15)
MAX_SEND_SMS_NUMBERS = 1000
MAX_BATCH_NUMBERS = 100
MAX_OUT_ID_LENGTH = 256
MAX_TEMPLATE_LENGTH = 500
MOST_NONCES_KEPT = 10_000  # beyond this, nonces older than twice the timestamp tolerance go

# SendStatus in QuerySendDetails.
WAITING, FAILED, DELIVERED = 1, 2, 3
# TemplateStatus in QuerySmsTemplate.
UNDER_REVIEW, APPROVED, REJECTED = 0, 1, 2

COMMON_PARAMETERS = ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "Action", "Version")

_VARIABLE = re.compile(r"\$\{(\w+)\}")
_URL = re.compile(r"(https?://|www\.)|([a-z0-9-]+\.(com|cn|net|org)\b)", re.IGNORECASE)


@dataclass
class SentMessage(Recorded):
    """One message the carrier accepted for one number."""

    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    biz_id: str
    sent_at: datetime
    content: str | None
    action: str
    status: int = WAITING
    err_code: str = ""
    reported_at: datetime | None = None

    @property
    def template_ref(self) -> str:  # the template it was sent with, as both simulators name it
        return self.template_code


@dataclass
class FiledTemplate:
    code: str
    template_type: int
    name: str
    content: str
    remark: str
    filed_at: datetime
    status: int | None = None  # fixed by ``file_template``; otherwise decided by the review delay


class CarrierError(ApiError):
    """An answer other than OK, as the carrier gives it."""


# A recipient checked and rendered: (mainland number, sign name, values as strings, text or None).
Checked = tuple[str, str, dict[str, str], str | None]


class Carrier(SimulatedCarrier):
    """What the carrier knows and how it answers the API's actions (``SimulatedCarrier`` for
    the keyword arguments: review, rejection words, limits, seed), and the nonces it has seen.
    Its request ids, message and template codes come from its seeded generator."""

    def __init__(
        self,
        access_keys: dict[str, str] | None,
        clock: Any,
        *,
        seed: int,
        review_delay: float,
        reject_words: tuple[str, ...],
        per_minute_limit: int,
        per_day_limit: int,
        param_max_length: int,
        strict_templates: bool,
    ) -> None:
        super().__init__(
            clock, seed=seed, review_delay=review_delay, reject_words=reject_words, per_minute_limit=per_minute_limit,
            per_day_limit=per_day_limit, param_max_length=param_max_length, strict_templates=strict_templates,
        )  # fmt: skip
        self.access_keys = dict(access_keys or {})
        self.sent: list[SentMessage] = []
        self.templates: dict[str, FiledTemplate] = {}
        self._nonces: dict[str, datetime] = {}
        self._biz_ids = itertools.count(self._rng.randrange(10**17, 9 * 10**17))
        self._template_codes = itertools.count(self._rng.randrange(10**8, 9 * 10**8))

    # -- what tests ask of the carrier -------------------------------------------------------

    def file_template(self, code: str, content: str, *, status: int = APPROVED, template_type: int = 1) -> None:
        """Know a template as if it had been filed and reviewed, so sends with it are checked and rendered."""
        with self._lock:
            self.templates[code] = FiledTemplate(code, template_type, code, content, "", self._now(), status)

    # -- a request ---------------------------------------------------------------------------

    def _request_id(self) -> str:
        return self._random_uuid().upper()

    def _authenticate(self, params: dict[str, str], method: str) -> None:
        """The common parameters, the signature over the method actually used, the timestamp
        and the nonce, refused in that order."""
        _check_common_parameters(params)
        self._check_signature(params, method)
        self._check_fresh(params)

    def _check_signature(self, params: dict[str, str], method: str) -> None:
        secret = self.access_keys.get(params["AccessKeyId"])
        if secret is None:
            raise CarrierError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        expected = signing.sign(params, secret, method)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            raise CarrierError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)

    def _check_fresh(self, params: dict[str, str]) -> None:
        """A timestamp within the tolerance of now, and a nonce not seen before (remembered)."""
        try:
            stamp = datetime.strptime(params["Timestamp"], signing.TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise CarrierError("InvalidTimeStamp.Format", "Specified time stamp is not valid.", 400) from None
        now = self._now()
        if abs(now - stamp) > TIMESTAMP_TOLERANCE:
            raise CarrierError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        with self._lock:
            if len(self._nonces) > MOST_NONCES_KEPT:
                self._nonces = {n: t for n, t in self._nonces.items() if now - t <= 2 * TIMESTAMP_TOLERANCE}
            if params["SignatureNonce"] in self._nonces:
                raise CarrierError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
            self._nonces[params["SignatureNonce"]] = now

    def _act(self, params: dict[str, str]) -> dict[str, Any]:
        """The answer of the request's ``Action`` (without Code, Message and RequestId)."""
        actions: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "SendSms": self._send_sms,
            "SendBatchSms": self._send_batch_sms,
            "AddSmsTemplate": self._add_sms_template,
            "QuerySmsTemplate": self._query_sms_template,
            "QuerySendDetails": self._query_send_details,
        }
        action = actions.get(params.get("Action", ""))
        if action is None:
            raise CarrierError(
                "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404
            )
        return action(params)

    # -- sending -----------------------------------------------------------------------------

    def _send_sms(self, params: dict[str, str]) -> dict[str, Any]:
        numbers = [n for n in required(params, "PhoneNumbers").split(",") if n.strip()]
        if len(numbers) > MAX_SEND_SMS_NUMBERS:
            raise CarrierError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        values = json_param(params.get("TemplateParam"), dict, "TemplateParam") or {}
        sign_name = required(params, "SignName")
        batch = [(n, sign_name, values) for n in numbers]
        return {"BizId": self._accept("SendSms", batch, required(params, "TemplateCode"), params.get("OutId"))}

    def _send_batch_sms(self, params: dict[str, str]) -> dict[str, Any]:
        numbers = json_param(required(params, "PhoneNumberJson"), list, "PhoneNumberJson")
        sign_names = json_param(required(params, "SignNameJson"), list, "SignNameJson")
        values = json_param(params.get("TemplateParamJson"), list, "TemplateParamJson")
        if len(numbers) > MAX_BATCH_NUMBERS:
            raise CarrierError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if len(sign_names) != len(numbers) or (values is not None and len(values) != len(numbers)):
            raise CarrierError("isv.INVALID_PARAMETERS", "号码、签名和模板变量的数量不一致")
        values = values if values is not None else [{}] * len(numbers)
        if not all(isinstance(v, dict) for v in values):
            raise CarrierError("isv.INVALID_JSON_PARAM", "TemplateParamJson 须为 JSON 对象数组")
        batch = [(str(n), str(s), v) for n, s, v in zip(numbers, sign_names, values, strict=True)]
        return {"BizId": self._accept("SendBatchSms", batch, required(params, "TemplateCode"), params.get("OutId"))}

    def _accept(self, action: str, batch: list[tuple[str, str, dict]], template_code: str, out_id: str | None) -> str:
        """Check a whole request, then record each message (``_record``).

        As at the real carrier, one bad number or one limit hit fails the whole request.
        """
        if out_id is not None and len(out_id) > MAX_OUT_ID_LENGTH:
            raise CarrierError("isv.OUT_ID_OVER_LIMIT", "外部流水号超过长度限制")
        if not batch:
            raise CarrierError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        with self._lock:
            now = self._now()
            template = self._usable_template(template_code, now)
            checked = [self._checked(number, sign_name, values, template) for number, sign_name, values in batch]
            self._check_limits([c[0] for c in checked], template_code, now)
            return self._record(action, checked, template_code, out_id, now)

    def _usable_template(self, template_code: str, now: datetime) -> FiledTemplate | None:
        """The filed template sends may use; None for one never filed here (when not strict)."""
        template = self.templates.get(template_code)
        if template is None and self.strict_templates:
            raise CarrierError("isv.SMS_TEMPLATE_ILLEGAL", "模板不存在")
        if template is not None and self._template_status(template, now) != APPROVED:
            raise CarrierError("isv.SMS_TEMPLATE_ILLEGAL", "模板未审核通过")
        return template

    def _checked(self, number: str, sign_name: str, values: dict, template: FiledTemplate | None) -> Checked:
        """One recipient's number, sign name and values checked, and its text rendered."""
        match = MOBILE.match(number.strip())
        if not match:
            raise CarrierError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if not 2 <= len(sign_name) <= 12 or any(c in sign_name for c in "【】[]"):
            raise CarrierError("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法")
        strings = {str(k): str(v) for k, v in values.items()}
        for value in strings.values():
            if _URL.search(value):
                raise CarrierError("isv.PARAM_NOT_SUPPORT_URL", "变量不支持传入链接")
            if len(value) > self.param_max_length:
                raise CarrierError("isv.PARAM_LENGTH_LIMIT", "变量长度超过限制")
        return match.group(1), sign_name, strings, _rendered(template, sign_name, strings)

    def _record(
        self, action: str, checked: list[Checked], template_code: str, out_id: str | None, now: datetime
    ) -> str:
        """Record each checked recipient's message under one BizId, count it against the
        number's limits, and hand the messages on (``_accepted``); the lock is held."""
        biz_id = f"{next(self._biz_ids)}^0"
        messages = []
        for phone, sign_name, strings, content in checked:
            message = SentMessage(phone, sign_name, template_code, strings, out_id, biz_id, now, content, action)
            messages.append(message)
            self._remember(message, template_code, now)
        self._accepted(messages)
        return biz_id

    def _check_limits(self, phones: list[str], template_code: str, now: datetime) -> None:
        counts = Counter(phones)
        for phone in counts:
            in_minute, in_day = self._recent_sends(phone, template_code, now)
            if in_minute + counts[phone] > self.per_minute_limit:
                raise CarrierError("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级/分钟级流控")
            if in_day + counts[phone] > self.per_day_limit:
                raise CarrierError("isv.DAY_LIMIT_CONTROL", "触发日发送限额")

    # -- templates and queries ---------------------------------------------------------------

    def _add_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            template_type = int(required(params, "TemplateType"))
        except ValueError:
            template_type = -1
        if template_type not in (0, 1, 2, 3):
            raise CarrierError("isv.INVALID_PARAMETERS", "模板类型不合法")
        content = required(params, "TemplateContent")
        if len(content) > MAX_TEMPLATE_LENGTH:
            raise CarrierError("isv.PARAM_LENGTH_LIMIT", "模板内容超过长度限制")
        with self._lock:
            code = f"SMS_{next(self._template_codes)}"
            self.templates[code] = FiledTemplate(
                code, template_type, required(params, "TemplateName"), content, params.get("Remark", ""), self._now()
            )
        return {"TemplateCode": code}

    def _template_status(self, template: FiledTemplate, now: datetime) -> int:
        if template.status is not None:
            return template.status
        if now - template.filed_at < timedelta(seconds=self.review_delay):
            return UNDER_REVIEW
        return REJECTED if any(w in template.content for w in self.reject_words) else APPROVED

    def _query_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            template = self.templates.get(required(params, "TemplateCode"))
            if template is None:
                raise CarrierError("isv.SMS_TEMPLATE_ILLEGAL", "模板不存在")
            status = self._template_status(template, self._now())
        return {
            "TemplateCode": template.code,
            "TemplateName": template.name,
            "TemplateType": template.template_type,
            "TemplateContent": template.content,
            "TemplateStatus": status,
            "Reason": "模板内容含有违规词语" if status == REJECTED else "",
            "CreateDate": template.filed_at.astimezone(BEIJING).strftime(DAY_FORMAT),
        }

    def _query_send_details(self, params: dict[str, str]) -> dict[str, Any]:
        match = MOBILE.match(required(params, "PhoneNumber").strip())
        if not match:
            raise CarrierError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        try:
            day = datetime.strptime(required(params, "SendDate"), "%Y%m%d").date()
            page_size = int(params.get("PageSize", "10"))
            page = int(params.get("CurrentPage", "1"))
        except ValueError:
            raise CarrierError("isv.INVALID_PARAMETERS", "参数格式不正确") from None
        if not 1 <= page_size <= 50 or page < 1:
            raise CarrierError("isv.INVALID_PARAMETERS", "PageSize 须在 1 到 50 之间")
        biz_id = params.get("BizId")
        with self._lock:
            found = [
                m
                for m in self._by_phone.get(match.group(1), [])
                if m.sent_at.astimezone(BEIJING).date() == day and (not biz_id or m.biz_id == biz_id)
            ]
            page_items = [_detail(m) for m in found[(page - 1) * page_size : page * page_size]]
        return {"TotalCount": len(found), "SmsSendDetailDTOs": {"SmsSendDetailDTO": page_items}}


def parse_params(query: str, body: bytes) -> dict[str, str]:
    """A request's parameters: the query string's, then the form body's over them."""
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, errors="strict"))
        if body:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise CarrierError("InvalidParameter", "The request parameters are not valid UTF-8 form data.", 400) from None
    return params


def _check_common_parameters(params: dict[str, str]) -> None:
    for name in COMMON_PARAMETERS:
        if not params.get(name):
            raise CarrierError(f"Missing{name}", f"{name} is mandatory for this action.", 400)
    if params["Version"] != signing.API_VERSION:
        raise CarrierError("InvalidVersion", "Specified parameter Version is not valid.", 400)
    if params.get("SignatureMethod", signing.SIGNATURE_METHOD) != signing.SIGNATURE_METHOD:
        raise CarrierError("InvalidSignatureMethod.Malformed", "Specified signature method is not valid.", 400)


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise CarrierError("isv.INVALID_PARAMETERS", f"参数 {name} 不能为空")
    return value


def json_param(text: str | None, kind: type, name: str) -> Any:
    if text is None or text == "":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise CarrierError("isv.INVALID_JSON_PARAM", f"参数 {name} 不是合法的 JSON")
    return value


def _rendered(template: FiledTemplate | None, sign_name: str, strings: dict[str, str]) -> str | None:
    """The text a recipient reads, or None when the carrier does not know the template."""
    if template is None:
        return None
    missing = [name for name in _VARIABLE.findall(template.content) if name not in strings]
    if missing:
        raise CarrierError("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
    body = _VARIABLE.sub(lambda m: strings[m.group(1)], template.content)
    return f"【{sign_name}】{body}"


def _detail(m: SentMessage) -> dict[str, Any]:
    return {
        "PhoneNum": m.phone,
        "SendStatus": m.status,
        "ErrCode": m.err_code if m.status != WAITING else "",
        "TemplateCode": m.template_code,
        "Content": m.content or "",
        "SendDate": m.sent_at.astimezone(BEIJING).strftime(DAY_FORMAT),
        "ReceiveDate": m.reported_at.astimezone(BEIJING).strftime(DAY_FORMAT) if m.reported_at else "",
        "OutId": m.out_id or "",
    }
