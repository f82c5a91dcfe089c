"""Client for the carrier's SMS API (Alibaba Cloud SMS, dysmsapi 2017-05-25, RPC style).

Every call answers a ``CarrierResult`` whose ``outcome`` tells the caller what to do next:

- ``OK``: accepted.
- ``REJECTED``: the request is at fault (bad number, template, signature, credentials); sending
  it again can only fail again, so it is never retried.
- ``LIMITED``: a frequency limit; retry after a long delay, a few times at most.
- ``RETRY``: the carrier did not take the request (no connection, HTTP 5xx, throttling); it is
  safe to send again with backoff.
- ``UNKNOWN``: the request went out but no answer came back (a read timeout, a dropped
  connection). The carrier does not deduplicate, so sending again could send twice: settle it
  with ``query_send_details`` by ``OutId`` instead.

``requests`` is imported on first use so that handler modules stay quick to import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sms_platform.carrier import signing
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger
from sms_platform.foundation.secrets import carrier_credentials
from sms_platform.foundation.settings import settings

MAX_SEND_SMS_NUMBERS = 1000
MAX_BATCH_NUMBERS = 100
MAX_OUT_ID_LENGTH = 256
MAX_PAGE_SIZE = 50
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
POOL_SIZE = 10
_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "Accept": "application/json"}

LIMITED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
RETRY_CODES = frozenset({"ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR"})


class Outcome(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    LIMITED = "limited"
    RETRY = "retry"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CarrierResult:
    outcome: Outcome
    code: str
    message: str
    biz_id: str | None = None
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


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


def classify_exception(exc: BaseException) -> Outcome:
    """RETRY when the request surely never reached the carrier, else UNKNOWN."""
    # deferred: requests costs ~50 ms where the tracer has not loaded it (see the module's docstring)
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return Outcome.RETRY
    if isinstance(exc, requests.exceptions.ProxyError):
        return Outcome.RETRY
    if isinstance(exc, requests.exceptions.ConnectionError):
        # requests wraps the cause: a refused or unresolvable connection is a NewConnectionError
        # inside urllib3's MaxRetryError; anything else (a reset or an aborted read) may have
        # happened after the request was sent.
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, "reason", cause)
        if isinstance(reason, NewConnectionError):
            return Outcome.RETRY
        return Outcome.UNKNOWN
    return Outcome.UNKNOWN


def template_param_json(values: Mapping[str, Any] | None) -> str | None:
    """``TemplateParam`` as the carrier wants it: a JSON object of strings, Chinese kept as is."""
    if values is None:
        return None
    return json.dumps({str(k): str(v) for k, v in values.items()}, ensure_ascii=False, separators=(",", ":"))


def _check_out_id(out_id: str | None) -> None:
    if out_id is not None and len(out_id) > MAX_OUT_ID_LENGTH:
        raise ValueError(f"OutId is {len(out_id)} characters; the carrier allows {MAX_OUT_ID_LENGTH}")


def _check_numbers(phone_numbers: Sequence[str], limit: int) -> None:
    if isinstance(phone_numbers, str):
        raise ValueError("phone_numbers must be a list of numbers")
    if not phone_numbers:
        raise ValueError("no phone numbers to send to")
    if len(phone_numbers) > limit:
        raise ValueError(f"{len(phone_numbers)} phone numbers in one request; the carrier allows {limit}")


class CarrierClient:
    """One client per process: it keeps a pooled ``requests.Session`` to the carrier."""

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
        # deferred: requests costs ~50 ms where the tracer has not loaded it (see the module's docstring)
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        # No automatic retries: whether a failed call may be repeated is the caller's decision,
        # made from the outcome (a blind retry after a read timeout could send twice).
        adapter = HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

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
        _check_numbers(phone_numbers, MAX_SEND_SMS_NUMBERS)
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
        _check_numbers(phone_numbers, MAX_BATCH_NUMBERS)
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
        # Numbers, template values and the secret are never logged: only counts and ids.
        extra = {k: v for k, v in fields.items() if v is not None}
        extra.update(
            action=action,
            outcome=result.outcome.value,
            carrier_code=result.code,
            biz_id=result.biz_id,
            request_id=result.request_id,
        )
        level = "info" if result.outcome is Outcome.OK else "warning"
        getattr(logger(), level)("carrier call", extra=extra)


@lru_cache(maxsize=1)
def carrier_client_from_environment() -> CarrierClient:
    """The process's one client: ``CARRIER_ENDPOINT`` and the credentials from Secrets Manager."""
    credentials = carrier_credentials()
    return CarrierClient(settings().value("CARRIER_ENDPOINT"), credentials.access_key_id, credentials.access_key_secret)
