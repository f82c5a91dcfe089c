"""Alibaba Cloud SMS (dysmsapi 2017-05-25, RPC style, CONTRACTS §1): the platform's first carrier.

Every call answers a ``CarrierResult`` whose ``outcome`` tells the caller what to do next (see
``base``). An unknown outcome is settled with ``query_send_details`` by ``OutId``
(``find_sent``), never by sending again. Besides the API's own actions (``send_sms``,
``send_batch_sms``, ``add_sms_template``, ``query_sms_template``, ``query_send_details``), the
client is a ``base.Carrier``: ``send``, ``file_template``, ``filing_status``, ``find_sent``.

``requests`` is imported on first use so that handler modules stay quick to import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sms_platform.carrier import signing
from sms_platform.carrier.base import (
    DEFAULT_TIMEOUT,
    CarrierName,
    CarrierResult,
    CarrierTemplate,
    DeliveryStatus,
    FilingAnswer,
    FilingState,
    Lookup,
    Outcome,
    SentRecord,
    TemplateKind,
    Values,
    check_numbers,
    classify_exception,
    log_call,
    pooled_session,
)
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.observability import logger
from sms_platform.foundation.secrets import carrier_credentials
from sms_platform.foundation.settings import settings

MAX_SEND_SMS_NUMBERS = 1000
MAX_BATCH_NUMBERS = 100
MAX_OUT_ID_LENGTH = 256
MAX_PAGE_SIZE = 50
QUERY_MAX_PAGES = 5  # pages of one number's day looked through when settling
_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "Accept": "application/json"}

LIMITED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
RETRY_CODES = frozenset({"ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR"})


def classify(status: int, code: str) -> Outcome:
    """What an answer from the carrier means for the caller (see the module docstring)."""
    if status >= 500 or code.startswith("Throttling") or code in RETRY_CODES:
        return Outcome.RETRY
    if code in LIMITED_CODES:
        return Outcome.LIMITED
    if code == "OK" and status < 300:
        return Outcome.OK
    # Every other answer names the request's own fault: isv.* codes, a wrong signature,
    # an unknown or disabled access key, a missing or malformed parameter.
    return Outcome.REJECTED


def template_param_json(values: Mapping[str, Any] | None) -> str | None:
    """``TemplateParam`` as the carrier wants it: a JSON object of strings, Chinese kept as is."""
    if values is None:
        return None
    return json.dumps({str(k): str(v) for k, v in values.items()}, ensure_ascii=False, separators=(",", ":"))


def _check_out_id(out_id: str | None) -> None:
    if out_id is not None and len(out_id) > MAX_OUT_ID_LENGTH:
        raise ValueError(f"OutId is {len(out_id)} characters; the carrier allows {MAX_OUT_ID_LENGTH}")


# TemplateType of AddSmsTemplate: 0 verification code, 1 notice, 2 publicity.
TEMPLATE_TYPES = {TemplateKind.CODE: 0, TemplateKind.NOTICE: 1, TemplateKind.PUBLICITY: 2}
# TemplateStatus of QuerySmsTemplate.
FILING_STATES = {"0": FilingState.UNDER_REVIEW, "1": FilingState.APPROVED, "2": FilingState.REJECTED}
# SendStatus of QuerySendDetails.
SEND_STATUSES = {"1": DeliveryStatus.WAITING, "2": DeliveryStatus.FAILED, "3": DeliveryStatus.DELIVERED}


def sent_record_of(details: Sequence[Mapping[str, Any]], out_id: str) -> SentRecord | None:
    """The ``QuerySendDetails`` record of the message with ``out_id``, as a ``SentRecord``."""
    for record in details:
        if str(record.get("OutId", "")) != out_id:
            continue
        status = SEND_STATUSES.get(str(record.get("SendStatus", "1")), DeliveryStatus.WAITING)
        code = str(record.get("ErrCode") or "UNKNOWN") if status is DeliveryStatus.FAILED else None
        return SentRecord(status, code, record.get("BizId") or None)
    return None


def details_of(data: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The records list out of a ``QuerySendDetails`` answer, whichever nesting it uses."""
    container = (data or {}).get("SmsSendDetailDTOs") or {}
    records = container.get("SmsSendDetailDTO", []) if isinstance(container, dict) else container
    return [r for r in records if isinstance(r, dict)]


class CarrierClient:
    """One client per process: it keeps a pooled ``requests.Session`` to the carrier."""

    name = CarrierName.ALIBABA.value
    max_numbers = MAX_BATCH_NUMBERS  # a batch of different texts goes as one SendBatchSms

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        *,
        session: Any = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Any = None,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.timeout = timeout
        self._clock = clock
        self.session = session if session is not None else self._new_session()

    def __repr__(self) -> str:  # the secret never reaches a log
        return f"CarrierClient(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    @staticmethod
    def _new_session() -> Any:
        return pooled_session()

    def close(self) -> None:
        self.session.close()

    # -- actions ---------------------------------------------------------------------------

    def send_sms(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template_code: str,
        template_param: Mapping[str, Any] | None,
        out_id: str | None,
    ) -> CarrierResult:
        """One text (one template, one set of values) to up to 1000 numbers."""
        check_numbers(phone_numbers, MAX_SEND_SMS_NUMBERS)
        _check_out_id(out_id)
        params = {
            "PhoneNumbers": ",".join(phone_numbers),
            "SignName": sign_name,
            "TemplateCode": template_code,
            "TemplateParam": template_param_json(template_param),
            "OutId": out_id,
        }
        return self._call("SendSms", params, numbers=len(phone_numbers), out_id=out_id)

    def send_batch_sms(
        self,
        phone_numbers: Sequence[str],
        sign_names: Sequence[str] | str,
        template_code: str,
        template_params: Sequence[Mapping[str, Any]] | None,
        out_id: str | None,
    ) -> CarrierResult:
        """One template to up to 100 numbers, each with its own signature and values."""
        check_numbers(phone_numbers, MAX_BATCH_NUMBERS)
        _check_out_id(out_id)
        if isinstance(sign_names, str):
            sign_names = [sign_names] * len(phone_numbers)
        if len(sign_names) != len(phone_numbers):
            raise ValueError("sign_names and phone_numbers must have the same length")
        if template_params is not None and len(template_params) != len(phone_numbers):
            raise ValueError("template_params and phone_numbers must have the same length")
        params = {
            "PhoneNumberJson": json.dumps(list(phone_numbers)),
            "SignNameJson": json.dumps(list(sign_names), ensure_ascii=False),
            "TemplateCode": template_code,
            "TemplateParamJson": (
                None
                if template_params is None
                else "[" + ",".join(template_param_json(p) or "{}" for p in template_params) + "]"
            ),
            "OutId": out_id,
        }
        return self._call("SendBatchSms", params, numbers=len(phone_numbers), out_id=out_id)

    def add_sms_template(self, template_type: int, name: str, content: str, remark: str) -> CarrierResult:
        """File a template for review; ``data["TemplateCode"]`` is the carrier's code for it."""
        if template_type not in (0, 1, 2, 3):
            raise ValueError("template_type is 0 (code), 1 (notice), 2 (publicity) or 3 (international)")
        params = {"TemplateType": template_type, "TemplateName": name, "TemplateContent": content, "Remark": remark}
        return self._call("AddSmsTemplate", params)

    def query_sms_template(self, template_code: str) -> CarrierResult:
        """``data["TemplateStatus"]``: 0 under review, 1 approved, 2 rejected (``data["Reason"]``)."""
        return self._call("QuerySmsTemplate", {"TemplateCode": template_code})

    def query_send_details(
        self,
        phone: str,
        send_date: date,
        page_size: int = MAX_PAGE_SIZE,
        current_page: int = 1,
        biz_id: str | None = None,
    ) -> CarrierResult:
        """What the carrier did with the messages to one number on one day (``SendDate`` is China time).

        ``data["SmsSendDetailDTOs"]["SmsSendDetailDTO"]`` lists them, each with its ``OutId`` and
        ``SendStatus`` (1 waiting, 2 failed, 3 delivered).
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if current_page < 1:
            raise ValueError("current_page starts at 1")
        params = {
            "PhoneNumber": phone,
            "SendDate": send_date.strftime("%Y%m%d"),
            "PageSize": page_size,
            "CurrentPage": current_page,
            "BizId": biz_id,
        }
        return self._call("QuerySendDetails", params)

    # -- as a base.Carrier ------------------------------------------------------------------

    def send(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template: CarrierTemplate,
        values: Values | Sequence[Values],
        out_id: str | None,
    ) -> CarrierResult:
        """One ``SendSms`` when every number gets the same values, else one ``SendBatchSms``."""
        if values is None or isinstance(values, Mapping):
            return self.send_sms(phone_numbers, sign_name, template.template_id, values, out_id)
        each = [v or {} for v in values]
        if all(v == each[0] for v in each):
            return self.send_sms(phone_numbers, sign_name, template.template_id, each[0] or None, out_id)
        return self.send_batch_sms(phone_numbers, sign_name, template.template_id, each, out_id)

    def file_template(self, kind: TemplateKind, name: str, content: str, remark: str) -> FilingAnswer:
        result = self.add_sms_template(TEMPLATE_TYPES[kind], name, content, remark)
        code = result.data.get("TemplateCode") if result.ok else None
        state = FilingState.UNDER_REVIEW if code else None
        return FilingAnswer(result, str(code) if code else None, state, result.message if not result.ok else "")

    def filing_status(self, template_id: str) -> FilingAnswer:
        result = self.query_sms_template(template_id)
        if not result.ok:
            return FilingAnswer(result, template_id)
        state = FILING_STATES.get(str(result.data.get("TemplateStatus")), FilingState.UNDER_REVIEW)
        reason = str(result.data.get("Reason") or "") if state is FilingState.REJECTED else ""
        return FilingAnswer(result, template_id, state, reason)

    def find_sent(self, phone: str, out_id: str, sent_at: datetime) -> Lookup:
        """``QuerySendDetails`` of the number on the (China) day it was sent and the day after,
        page by page, for the record with ``out_id``."""
        first = sent_at.astimezone(BEIJING).date()
        for day in (first, first + timedelta(days=1)):
            if day > self._now().astimezone(BEIJING).date():
                break
            for page in range(1, QUERY_MAX_PAGES + 1):
                answer = self.query_send_details(phone, day, page_size=MAX_PAGE_SIZE, current_page=page)
                if not answer.ok:
                    return Lookup(answer.outcome, None, answer.code)
                details = details_of(answer.data)
                found = sent_record_of(details, out_id)
                if found is not None:
                    return Lookup(Outcome.OK, found)
                if len(details) < MAX_PAGE_SIZE:
                    break
        return Lookup(Outcome.OK, None)

    # -- transport -------------------------------------------------------------------------

    def _now(self) -> Any:
        if self._clock is not None:
            return self._clock.now()
        return get_clock().now()

    def _call(
        self, action: str, params: Mapping[str, Any], *, numbers: int | None = None, out_id: str | None = None
    ) -> CarrierResult:
        signed = signing.signed_params(
            action, params, self.access_key_id, self._secret, now=self._now(), nonce=uuid.uuid4().hex
        )
        body = "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}" for k, v in signed.items())
        import requests  # already loaded with the session; imported here to keep module import light

        try:
            response = self.session.post(
                self.endpoint,
                data=body.encode("utf-8"),
                headers=_HEADERS,
                timeout=self.timeout,
            )
        except requests.exceptions.RequestException as exc:
            outcome = classify_exception(exc)
            result = CarrierResult(outcome, type(exc).__name__, "no answer from the carrier")
            self._log(action, result, numbers=numbers, out_id=out_id)
            return result
        result = self._result(response)
        self._log(action, result, numbers=numbers, out_id=out_id, status=response.status_code)
        return result

    @staticmethod
    def _result(response: Any) -> CarrierResult:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or "Code" not in data:
            if response.status_code >= 500:
                return CarrierResult(Outcome.RETRY, f"HTTP{response.status_code}", "carrier error without a body")
            if response.status_code < 300:
                # The request was taken but the answer is unreadable: treat as unknown, never resend.
                return CarrierResult(Outcome.UNKNOWN, f"HTTP{response.status_code}", "unreadable answer")
            return CarrierResult(Outcome.REJECTED, f"HTTP{response.status_code}", "refused without a body")
        code = str(data.get("Code"))
        return CarrierResult(
            outcome=classify(response.status_code, code),
            code=code,
            message=str(data.get("Message", "")),
            biz_id=data.get("BizId"),
            request_id=data.get("RequestId"),
            data=data,
        )

    @staticmethod
    def _log(action: str, result: CarrierResult, **fields: Any) -> None:
        log_call(logger(), CarrierName.ALIBABA, action, result, **fields)


@lru_cache(maxsize=1)
def carrier_client_from_environment() -> CarrierClient:
    """The process's one client: ``CARRIER_ENDPOINT`` and the credentials from Secrets Manager."""
    credentials = carrier_credentials()
    return CarrierClient(settings().value("CARRIER_ENDPOINT"), credentials.access_key_id, credentials.access_key_secret)
