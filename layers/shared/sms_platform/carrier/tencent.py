"""Tencent Cloud SMS (API 3.0, version 2021-01-11, CONTRACTS §8): the platform's second carrier.

Every call is a JSON ``POST /`` signed with TC3-HMAC-SHA256 (``tc3``), the action in
``X-TC-Action``, and is answered ``{"Response": {...}}``: a request-level failure is
``Response.Error {Code, Message}``. Codes map to the outcomes of ``base`` (``classify``): the
caller's faults are not retried, ``RequestLimitExceeded`` and ``LimitExceeded.*`` are frequency
limits, ``InternalError.*`` and HTTP 5xx are retried, and a request sent without an answer is
UNKNOWN, settled by ``PullSmsSendStatusByPhoneNumber`` matching ``SessionContext``
(``find_sent``), never by sending again.

``SendSms`` takes up to 200 numbers (``+86`` form) and one positional ``TemplateParamSet`` for
them all; it answers per number (``SendStatusSet``: ``Code``, ``SerialNo``, ``Fee``), given back as
``CarrierResult.recipients``. Its ``SessionContext`` carries the platform's reference of the
messages (the OutId of Alibaba), which status pulls give back. Templates are filed in positional
form (``placeholders``), the names in position order returned with the filing.

``requests`` is imported on first use so that handler modules stay quick to import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sms_platform.carrier import placeholders, tc3
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
    RecipientResult,
    SentRecord,
    TemplateKind,
    Values,
    check_numbers,
    classify_exception,
    log_call,
    pooled_session,
)
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger
from sms_platform.foundation.secrets import tencent_credentials
from sms_platform.foundation.settings import settings

API_VERSION = "2021-01-11"
SERVICE = "sms"
DEFAULT_REGION = "ap-guangzhou"
MAX_NUMBERS = 200
MAX_SESSION_CONTEXT_BYTES = 511  # "less than 512 bytes"
PULL_LIMIT = 100
PULL_LOOKBACK = timedelta(minutes=5)  # pulled from a little before the hand-over: clocks differ
OK_CODE = "Ok"

# SmsType of AddSmsTemplate as CONTRACTS §8 has it: 0 notice, 1 marketing (publicity).
SMS_TYPES = {TemplateKind.CODE: 0, TemplateKind.NOTICE: 0, TemplateKind.PUBLICITY: 1}
# StatusCode of DescribeSmsTemplateList: 0 approved, 1 under review, -1 rejected (2, approved
# but not in force yet, is still waiting).
FILING_STATES = {0: FilingState.APPROVED, 1: FilingState.UNDER_REVIEW, 2: FilingState.UNDER_REVIEW,
                 -1: FilingState.REJECTED}  # fmt: skip
REPORT_STATUSES = {"SUCCESS": DeliveryStatus.DELIVERED, "FAIL": DeliveryStatus.FAILED}


def classify(status: int, code: str) -> Outcome:
    """What a Tencent answer (HTTP status and error or per-number code) means for the caller.

    ``""`` is a request-level answer without ``Error``; ``Ok`` a number's success."""
    if status >= 500 or code.startswith("InternalError"):
        return Outcome.RETRY
    if code == "RequestLimitExceeded" or code.startswith(("RequestLimitExceeded.", "LimitExceeded.")):
        return Outcome.LIMITED
    if code in ("", OK_CODE) and status < 300:
        return Outcome.OK
    # AuthFailure.*, InvalidParameter*, MissingParameter, FailedOperation.* (template or
    # signature not approved, blacklisted number, no balance), UnauthorizedOperation.*,
    # UnsupportedOperation.*: the request's own fault.
    return Outcome.REJECTED


def plus86(phone: str) -> str:
    """A mainland number in the E.164 form Tencent answers with (``+8613800138000``)."""
    digits = phone.strip().removeprefix("+")
    digits = digits.removeprefix("0086") if digits.startswith("0086") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return "+86" + digits


def mainland(phone: str) -> str:
    """The 11-digit number of a ``+86`` (or bare) one."""
    return plus86(phone)[3:]


def _check_session_context(out_id: str | None) -> None:
    if out_id is not None and len(out_id.encode("utf-8")) > MAX_SESSION_CONTEXT_BYTES:
        raise ValueError(f"SessionContext is over {MAX_SESSION_CONTEXT_BYTES} bytes")


def recipients_of(data: Mapping[str, Any]) -> tuple[RecipientResult, ...]:
    """``SendStatusSet`` as one ``RecipientResult`` per number."""
    found = []
    for entry in data.get("SendStatusSet") or []:
        if not isinstance(entry, dict):
            continue
        code = str(entry.get("Code") or "")
        fee = entry.get("Fee")
        found.append(
            RecipientResult(
                phone=mainland(str(entry.get("PhoneNumber") or "")),
                outcome=classify(200, code),
                code=code,
                message=str(entry.get("Message") or ""),
                carrier_id=str(entry.get("SerialNo") or "") or None,
                fee=fee if isinstance(fee, int) else None,
            )
        )
    return tuple(found)


def sent_record_of(statuses: Sequence[Mapping[str, Any]], out_id: str) -> SentRecord | None:
    """The pulled status of the message whose ``SessionContext`` is ``out_id``."""
    for entry in statuses:
        if str(entry.get("SessionContext") or "") != out_id:
            continue
        status = REPORT_STATUSES.get(str(entry.get("ReportStatus") or "").upper(), DeliveryStatus.WAITING)
        code = str(entry.get("Description") or "FAIL") if status is DeliveryStatus.FAILED else None
        return SentRecord(status, code, str(entry.get("SerialNo") or "") or None)
    return None


def _value_groups(numbers: Sequence[str], values: Values | Sequence[Values]) -> list[tuple[list[str], Values]]:
    """The numbers grouped by their values, in order: Tencent takes one value list per request."""
    if values is None or isinstance(values, Mapping):
        return [(list(numbers), values)]
    if len(values) != len(numbers):
        raise ValueError("one set of values per number")
    groups: dict[str, tuple[list[str], Values]] = {}
    for number, value in zip(numbers, values, strict=True):
        key = json.dumps({str(k): str(v) for k, v in (value or {}).items()}, sort_keys=True, ensure_ascii=False)
        groups.setdefault(key, ([], value))[0].append(number)
    return list(groups.values())


class TencentClient:
    """One client per process: it keeps a pooled ``requests.Session`` to Tencent."""

    name = CarrierName.TENCENT.value
    max_numbers = MAX_NUMBERS

    def __init__(
        self,
        endpoint: str,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        *,
        region: str = DEFAULT_REGION,
        session: Any = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Any = None,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.host = urlsplit(self.endpoint).netloc
        self.secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.region = region
        self.timeout = timeout
        self._clock = clock
        self.session = session if session is not None else pooled_session()

    def __repr__(self) -> str:  # the key never reaches a log
        return f"TencentClient(endpoint={self.endpoint!r}, secret_id={self.secret_id!r})"

    def close(self) -> None:
        self.session.close()

    # -- actions ---------------------------------------------------------------------------

    def send_sms(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template_id: str,
        template_params: Sequence[str],
        session_context: str | None,
    ) -> CarrierResult:
        """One text (one template, one positional value list) to up to 200 numbers."""
        check_numbers(phone_numbers, MAX_NUMBERS)
        _check_session_context(session_context)
        params: dict[str, Any] = {
            "PhoneNumberSet": [plus86(n) for n in phone_numbers],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": sign_name,
            "TemplateId": str(template_id),
            "TemplateParamSet": [str(v) for v in template_params],
        }
        if session_context is not None:
            params["SessionContext"] = session_context
        return self._call("SendSms", params, numbers=len(phone_numbers), out_id=session_context)

    def add_sms_template(self, sms_type: int, name: str, content: str, remark: str) -> CarrierResult:
        """File a positional template; ``data["AddTemplateStatus"]["TemplateId"]`` is its id."""
        if sms_type not in (0, 1):
            raise ValueError("sms_type is 0 (notice) or 1 (marketing)")
        params = {"TemplateName": name, "TemplateContent": content, "SmsType": sms_type, "International": 0,
                  "Remark": remark}  # fmt: skip
        return self._call("AddSmsTemplate", params)

    def describe_sms_templates(self, template_ids: Sequence[str]) -> CarrierResult:
        """``data["DescribeTemplateStatusSet"]``: each template's ``StatusCode`` and ``ReviewReply``."""
        return self._call("DescribeSmsTemplateList", {"TemplateIdSet": [int(t) for t in template_ids],
                                                      "International": 0})  # fmt: skip

    def pull_send_status(self, phone: str, begin: datetime, end: datetime) -> CarrierResult:
        """``data["PullSmsSendStatusSet"]``: the reported statuses of messages to one number
        between ``begin`` and ``end`` (at most seven days back)."""
        params = {
            "BeginTime": int(begin.timestamp()),
            "EndTime": int(end.timestamp()),
            "Offset": 0,
            "Limit": PULL_LIMIT,
            "PhoneNumber": plus86(phone),
            "SmsSdkAppId": self.sdk_app_id,
        }
        return self._call("PullSmsSendStatusByPhoneNumber", params)

    # -- as a base.Carrier ------------------------------------------------------------------

    def send(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template: CarrierTemplate,
        values: Values | Sequence[Values],
        out_id: str | None,
    ) -> CarrierResult:
        """One ``SendSms`` per distinct set of values (one for a shared text). After a request
        the carrier did not take, the numbers not sent yet are left RETRY (never sent), so the
        caller sends exactly those again."""
        check_numbers(phone_numbers, MAX_NUMBERS)
        groups = _value_groups(phone_numbers, values)
        results = []
        for numbers, group_values in groups:
            positional = placeholders.positional_values(template.placeholders, group_values)
            result = self.send_sms(numbers, sign_name, template.template_id, positional, out_id)
            results.append((numbers, result))
            if not result.ok:
                break
        return _combined(results, [n for numbers, _ in groups[len(results) :] for n in numbers])

    def file_template(self, kind: TemplateKind, name: str, content: str, remark: str) -> FilingAnswer:
        positional = placeholders.to_positional(content)
        result = self.add_sms_template(SMS_TYPES[kind], name, positional.text, remark)
        template_id = (result.data.get("AddTemplateStatus") or {}).get("TemplateId") if result.ok else None
        if not template_id:
            return FilingAnswer(result, None, None, "" if result.ok else result.message, positional.names)
        return FilingAnswer(result, str(template_id), FilingState.UNDER_REVIEW, "", positional.names)

    def filing_status(self, template_id: str) -> FilingAnswer:
        result = self.describe_sms_templates([template_id])
        entries = result.data.get("DescribeTemplateStatusSet") or [] if result.ok else []
        entry = next((e for e in entries if str(e.get("TemplateId")) == str(template_id)), None)
        if entry is None:
            return FilingAnswer(result, template_id)
        state = FILING_STATES.get(int(entry.get("StatusCode", 1)), FilingState.UNDER_REVIEW)
        reason = str(entry.get("ReviewReply") or "") if state is FilingState.REJECTED else ""
        return FilingAnswer(result, template_id, state, reason)

    def find_sent(self, phone: str, out_id: str, sent_at: datetime) -> Lookup:
        """The number's pulled statuses since the hand-over, matched by ``SessionContext``.
        Tencent lists a message only once the network reported on it: until then the answer
        is "no record", and the caller asks again later."""
        answer = self.pull_send_status(phone, sent_at - PULL_LOOKBACK, self._now())
        if not answer.ok:
            return Lookup(answer.outcome, None, answer.code)
        return Lookup(Outcome.OK, sent_record_of(answer.data.get("PullSmsSendStatusSet") or [], out_id))

    # -- transport -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return (self._clock or get_clock()).now()

    def _call(
        self, action: str, params: Mapping[str, Any], *, numbers: int | None = None, out_id: str | None = None
    ) -> CarrierResult:
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = tc3.signed_headers(
            self.secret_id, self._secret_key, body, self.host,
            action=action, version=API_VERSION, region=self.region, timestamp=int(self._now().timestamp()),
            service=SERVICE,
        )  # fmt: skip
        import requests  # already loaded with the session; imported here to keep module import light

        try:
            response = self.session.post(self.endpoint, data=body, headers=headers, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            result = CarrierResult(classify_exception(exc), type(exc).__name__, "no answer from the carrier",
                                   carrier=self.name)  # fmt: skip
            log_call(logger(), self.name, action, result, numbers=numbers, out_id=out_id)
            return result
        result = _result(response)
        log_call(logger(), self.name, action, result, numbers=numbers, out_id=out_id, status=response.status_code)
        return result


def _result(response: Any) -> CarrierResult:
    try:
        data = response.json()
    except ValueError:
        data = None
    body = data.get("Response") if isinstance(data, dict) else None
    status = response.status_code
    if not isinstance(body, dict):
        if status >= 500:
            return CarrierResult(Outcome.RETRY, f"HTTP{status}", "carrier error without a body", carrier="tencent")
        if status < 300:
            # The request was taken but the answer is unreadable: unknown, never resent.
            return CarrierResult(Outcome.UNKNOWN, f"HTTP{status}", "unreadable answer", carrier="tencent")
        return CarrierResult(Outcome.REJECTED, f"HTTP{status}", "refused without a body", carrier="tencent")
    error = body.get("Error") if isinstance(body.get("Error"), dict) else None
    code = str(error.get("Code") or "") if error else ""
    return CarrierResult(
        outcome=classify(status, code),
        code=code or OK_CODE,
        message=str(error.get("Message") or "") if error else "OK",
        request_id=body.get("RequestId"),
        data=body,
        carrier=CarrierName.TENCENT.value,
        recipients=recipients_of(body) if not error else (),
    )


def _combined(results: list[tuple[list[str], CarrierResult]], unsent: list[str]) -> CarrierResult:
    """One result for the requests of one ``send``: the last request's outcome (each before it
    was taken), every number's own result, and those never sent left RETRY."""
    last = results[-1][1]
    if len(results) == 1 and not unsent and last.recipients:  # one request answered per number: as it is
        return last
    recipients: list[RecipientResult] = []
    for group, result in results:
        if result.recipients:
            recipients.extend(result.recipients)
        else:  # refused or unanswered as a whole: each number shares the request's outcome
            recipients.extend(RecipientResult(n, result.outcome, result.code, result.message) for n in group)
    recipients.extend(RecipientResult(n, Outcome.RETRY, "NotSent", "not sent after an earlier failure")
                      for n in unsent)  # fmt: skip
    return _with(last, recipients)


def _with(result: CarrierResult, recipients: list[RecipientResult]) -> CarrierResult:
    return CarrierResult(result.outcome, result.code, result.message, result.biz_id, result.request_id,
                         result.data, result.carrier, tuple(recipients))  # fmt: skip


@lru_cache(maxsize=1)
def tencent_client_from_environment() -> TencentClient:
    """The process's one Tencent client: ``TENCENT_SMS_ENDPOINT``, ``TENCENT_SMS_SDK_APP_ID``,
    ``TENCENT_SMS_REGION`` and the key pair from Secrets Manager."""
    current = settings()
    credentials = tencent_credentials()
    return TencentClient(
        current.value("TENCENT_SMS_ENDPOINT"),
        credentials.secret_id,
        credentials.secret_key,
        current.value("TENCENT_SMS_SDK_APP_ID"),
        region=current.tencent_sms_region or DEFAULT_REGION,
    )
