"""A local carrier: speaks the Alibaba Cloud SMS API (dysmsapi 2017-05-25) as CONTRACTS §1 describes.

Any Alibaba Cloud SMS client can talk to it, the official SDKs included: parameters may come in
the query string or a form body, by GET or POST, and the signature is checked over the method
actually used. It answers ``SendSms``, ``SendBatchSms``, ``AddSmsTemplate``,
``QuerySmsTemplate`` and ``QuerySendDetails`` with the carrier's own codes, pushes delivery
receipts (SmsReport) to ``receipt_url`` after ``receipt_delay`` seconds, and pushes replies
(SmsUp) to ``inbound_url`` on demand.

For fault tests it fails a share of requests with HTTP 500, throttles them (``Throttling.User``),
hangs after recording the send (the caller times out although the message went out), drops the
connection after recording, or reports a share of messages as undelivered. Its randomness is
seeded, so a fault test sees the same sequence every run.

This is a local test tool. The control endpoints under ``/_simulator/`` take no credentials and
``GET /_simulator/sent?full=1`` shows phone numbers in clear, so it listens on 127.0.0.1 only
by default and must never face a network.

    python -m infra.carrier_simulator --port 3900

reads ``CARRIER_ACCESS_KEY_ID`` / ``CARRIER_ACCESS_KEY_SECRET`` (and optionally
``CARRIER_RECEIPT_URL`` / ``CARRIER_INBOUND_URL``) from the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import heapq
import hmac
import itertools
import json
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sms_platform.carrier import signing
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.observability import redact

TIMESTAMP_TOLERANCE = timedelta(minutes=15)
MAX_SEND_SMS_NUMBERS = 1000
MAX_BATCH_NUMBERS = 100
MAX_OUT_ID_LENGTH = 256
MAX_TEMPLATE_LENGTH = 500
RECEIPT_ATTEMPTS = 3
RECEIPT_RETRY_SECONDS = 1.0

# SendStatus in QuerySendDetails.
WAITING, FAILED, DELIVERED = 1, 2, 3
# TemplateStatus in QuerySmsTemplate.
UNDER_REVIEW, APPROVED, REJECTED = 0, 1, 2

_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_VARIABLE = re.compile(r"\$\{(\w+)\}")
_URL = re.compile(r"(https?://|www\.)|([a-z0-9-]+\.(com|cn|net|org)\b)", re.IGNORECASE)
_DAY = "%Y-%m-%d %H:%M:%S"


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


@dataclass
class SentMessage:
    """One message the simulator accepted for one number."""

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

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data["phone"] = self.phone if full else mask(self.phone)
        data["sent_at"] = self.sent_at.isoformat()
        data["reported_at"] = self.reported_at.isoformat() if self.reported_at else None
        return data


@dataclass
class FiledTemplate:
    code: str
    template_type: int
    name: str
    content: str
    remark: str
    filed_at: datetime
    status: int | None = None  # fixed by ``file_template``; otherwise decided by the review delay


@dataclass
class Faults:
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 15.0
    drop_rate: float = 0.0
    undelivered_rate: float = 0.0


class CarrierError(Exception):
    """An answer other than OK, as the carrier gives it."""

    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass
class _Reply:
    status: int
    body: Any
    hang: float = 0.0
    drop: bool = False


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    messages: list[SentMessage] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class CarrierSimulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        access_keys: dict[str, str] | None = None,
        receipt_url: str | None = None,
        inbound_url: str | None = None,
        receipt_delay: float = 0.5,
        clock: Any = None,
        *,
        seed: int = 0,
        review_delay: float = 2.0,
        reject_words: tuple[str, ...] = ("违规", "赌博"),
        per_minute_limit: int = 5,
        per_day_limit: int = 40,
        param_max_length: int = 35,
        strict_templates: bool = False,
        verbose: bool = False,
    ) -> None:
        """``review_delay`` (seconds on ``clock``) is how long a filed template stays under review;
        a template whose content holds one of ``reject_words`` is then rejected. A template code
        the simulator never filed is accepted unless ``strict_templates``. ``per_minute_limit``
        is how often one number may get one template in a minute, ``per_day_limit`` how many
        messages one number may get in a (China) day."""
        self.host, self.port = host, port
        self.access_keys = dict(access_keys or {})
        self.receipt_url = receipt_url
        self.inbound_url = inbound_url
        self.receipt_delay = receipt_delay
        self.receipt_retry_delay = RECEIPT_RETRY_SECONDS
        self.review_delay = review_delay
        self.reject_words = tuple(reject_words)
        self.per_minute_limit = per_minute_limit
        self.per_day_limit = per_day_limit
        self.param_max_length = param_max_length
        self.strict_templates = strict_templates
        self.verbose = verbose
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._faults = Faults()
        self.sent: list[SentMessage] = []
        self.receipts: list[dict[str, Any]] = []  # receipts the receiver acknowledged
        self.templates: dict[str, FiledTemplate] = {}
        self._by_phone: dict[str, list[SentMessage]] = {}
        self._recent: dict[tuple[str, str], list[datetime]] = {}
        self._nonces: dict[str, datetime] = {}
        self._biz_ids = itertools.count(self._rng.randrange(10**17, 9 * 10**17))
        self._template_codes = itertools.count(self._rng.randrange(10**8, 9 * 10**8))
        self._sequence = itertools.count(1)
        self._due: list[_Due] = []
        self._due_seq = itertools.count()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._http: Any = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> CarrierSimulator:
        import requests

        self._http = requests.Session()
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # a quick stop
        for target, name in ((serve, "carrier-http"), (self._deliver_loop, "carrier-receipts")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._wake.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> CarrierSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls for tests ----------------------------------------------------------------

    def set_faults(
        self,
        fail_rate: float = 0.0,
        throttle_rate: float = 0.0,
        hang_rate: float = 0.0,
        hang_seconds: float = 15.0,
        undelivered_rate: float = 0.0,
        drop_rate: float = 0.0,
    ) -> Faults:
        faults = Faults(fail_rate, throttle_rate, hang_rate, hang_seconds, drop_rate, undelivered_rate)
        rates = [faults.fail_rate, faults.throttle_rate, faults.hang_rate, faults.drop_rate]
        if any(not 0 <= r <= 1 for r in [*rates, faults.undelivered_rate]) or sum(rates) > 1:
            raise ValueError("rates are between 0 and 1, and the request faults add up to 1 at most")
        if faults.hang_seconds < 0:
            raise ValueError("hang_seconds cannot be negative")
        with self._lock:
            self._faults = faults
        return faults

    @property
    def faults(self) -> Faults:
        return self._faults

    def file_template(self, code: str, content: str, *, status: int = APPROVED, template_type: int = 1) -> None:
        """Know a template as if it had been filed and reviewed, so sends with it are checked and rendered."""
        with self._lock:
            self.templates[code] = FiledTemplate(code, template_type, code, content, "", self._now(), status)

    def duplicates(self) -> list[tuple[str, str]]:
        """(masked phone, text) of every message one number received more than once."""
        seen: dict[tuple[str, str], int] = {}
        with self._lock:
            for m in self.sent:
                text = m.content or f"{m.sign_name}|{m.template_code}|{json.dumps(m.params, sort_keys=True)}"
                seen[(m.phone, text)] = seen.get((m.phone, text), 0) + 1
        return [(mask(phone), text) for (phone, text), count in seen.items() if count > 1]

    def sent_to(self, phone: str) -> list[SentMessage]:
        with self._lock:
            return list(self._by_phone.get(phone, []))

    def push_reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        """Push one reply (SmsUp) to ``inbound_url``; answers the item and the receiver's HTTP status."""
        if not self.inbound_url:
            raise RuntimeError("no inbound_url to push replies to")
        match = _MOBILE.match(phone.strip())
        if not match:
            raise ValueError("not a mainland mobile number")
        item = {
            "phone_number": match.group(1),
            "send_time": self._now().astimezone(BEIJING).strftime(_DAY),
            "content": content,
            "sign_name": sign_name,
            "dest_code": "1234",
            "sequence_id": next(self._sequence),
        }
        import requests  # not the receipt thread's session: a Session is not shared across threads

        response = requests.post(self.inbound_url, json=[item], timeout=10)
        return {"item": item, "status": response.status_code}

    # -- the API ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return (self._clock or get_clock()).now()

    def handle_api(self, method: str, query: str, body: bytes) -> _Reply:
        request_id = self._request_id()
        try:
            params = _parse_params(query, body)
            self._authenticate(params, method)
            fault = self._draw_fault()
            if fault == "fail":
                raise CarrierError("InternalError", "The request processing has failed due to some unknown error.", 500)
            if fault == "throttle":
                raise CarrierError("Throttling.User", "Request was denied due to user flow control.", 400)
            action = params.get("Action", "")
            handler = {
                "SendSms": self._send_sms,
                "SendBatchSms": self._send_batch_sms,
                "AddSmsTemplate": self._add_sms_template,
                "QuerySmsTemplate": self._query_sms_template,
                "QuerySendDetails": self._query_send_details,
            }.get(action)
            if handler is None:
                raise CarrierError(
                    "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404
                )
            answer = {"Code": "OK", "Message": "OK", "RequestId": request_id, **handler(params)}
        except CarrierError as error:
            return _Reply(error.status, {"Code": error.code, "Message": error.message, "RequestId": request_id})
        if fault == "hang":
            return _Reply(200, answer, hang=self._faults.hang_seconds)
        return _Reply(200, answer, drop=fault == "drop")

    def _request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4)).upper()

    def _draw_fault(self) -> str | None:
        with self._lock:
            f, roll = self._faults, self._rng.random()
        for name, rate in (
            ("fail", f.fail_rate),
            ("throttle", f.throttle_rate),
            ("hang", f.hang_rate),
            ("drop", f.drop_rate),
        ):
            if roll < rate:
                return name
            roll -= rate
        return None

    def _authenticate(self, params: dict[str, str], method: str) -> None:
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "Action", "Version"):
            if not params.get(name):
                raise CarrierError(f"Missing{name}", f"{name} is mandatory for this action.", 400)
        if params["Version"] != signing.API_VERSION:
            raise CarrierError("InvalidVersion", "Specified parameter Version is not valid.", 400)
        if params.get("SignatureMethod", signing.SIGNATURE_METHOD) != signing.SIGNATURE_METHOD:
            raise CarrierError("InvalidSignatureMethod.Malformed", "Specified signature method is not valid.", 400)
        secret = self.access_keys.get(params["AccessKeyId"])
        if secret is None:
            raise CarrierError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        expected = signing.sign(params, secret, method)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            raise CarrierError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
        try:
            stamp = datetime.strptime(params["Timestamp"], signing.TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise CarrierError("InvalidTimeStamp.Format", "Specified time stamp is not valid.", 400) from None
        now = self._now()
        if abs(now - stamp) > TIMESTAMP_TOLERANCE:
            raise CarrierError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        with self._lock:
            if len(self._nonces) > 10_000:
                self._nonces = {n: t for n, t in self._nonces.items() if now - t <= 2 * TIMESTAMP_TOLERANCE}
            if params["SignatureNonce"] in self._nonces:
                raise CarrierError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
            self._nonces[params["SignatureNonce"]] = now

    # -- actions ---------------------------------------------------------------------------

    def _send_sms(self, params: dict[str, str]) -> dict[str, Any]:
        numbers = [n for n in _required(params, "PhoneNumbers").split(",") if n.strip()]
        if len(numbers) > MAX_SEND_SMS_NUMBERS:
            raise CarrierError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        values = _json_param(params.get("TemplateParam"), dict, "TemplateParam") or {}
        sign_name = _required(params, "SignName")
        batch = [(n, sign_name, values) for n in numbers]
        return {"BizId": self._accept("SendSms", batch, _required(params, "TemplateCode"), params.get("OutId"))}

    def _send_batch_sms(self, params: dict[str, str]) -> dict[str, Any]:
        numbers = _json_param(_required(params, "PhoneNumberJson"), list, "PhoneNumberJson")
        sign_names = _json_param(_required(params, "SignNameJson"), list, "SignNameJson")
        values = _json_param(params.get("TemplateParamJson"), list, "TemplateParamJson")
        if len(numbers) > MAX_BATCH_NUMBERS:
            raise CarrierError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if len(sign_names) != len(numbers) or (values is not None and len(values) != len(numbers)):
            raise CarrierError("isv.INVALID_PARAMETERS", "号码、签名和模板变量的数量不一致")
        values = values if values is not None else [{}] * len(numbers)
        if not all(isinstance(v, dict) for v in values):
            raise CarrierError("isv.INVALID_JSON_PARAM", "TemplateParamJson 须为 JSON 对象数组")
        batch = [(str(n), str(s), v) for n, s, v in zip(numbers, sign_names, values, strict=True)]
        return {"BizId": self._accept("SendBatchSms", batch, _required(params, "TemplateCode"), params.get("OutId"))}

    def _accept(self, action: str, batch: list[tuple[str, str, dict]], template_code: str, out_id: str | None) -> str:
        """Check a whole request, then record each message and schedule its receipt.

        As at the real carrier, one bad number or one limit hit fails the whole request.
        """
        if out_id is not None and len(out_id) > MAX_OUT_ID_LENGTH:
            raise CarrierError("isv.OUT_ID_OVER_LIMIT", "外部流水号超过长度限制")
        if not batch:
            raise CarrierError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        with self._lock:
            now = self._now()
            template = self.templates.get(template_code)
            if template is None and self.strict_templates:
                raise CarrierError("isv.SMS_TEMPLATE_ILLEGAL", "模板不存在")
            if template is not None and self._template_status(template, now) != APPROVED:
                raise CarrierError("isv.SMS_TEMPLATE_ILLEGAL", "模板未审核通过")
            checked = []
            for number, sign_name, values in batch:
                match = _MOBILE.match(number.strip())
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
                content = None
                if template is not None:
                    missing = [name for name in _VARIABLE.findall(template.content) if name not in strings]
                    if missing:
                        raise CarrierError("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
                    body = _VARIABLE.sub(lambda m, s=strings: s[m.group(1)], template.content)
                    content = f"【{sign_name}】{body}"
                checked.append((match.group(1), sign_name, strings, content))
            self._check_limits([c[0] for c in checked], template_code, now)
            biz_id = f"{next(self._biz_ids)}^0"
            messages = []
            for phone, sign_name, strings, content in checked:
                message = SentMessage(phone, sign_name, template_code, strings, out_id, biz_id, now, content, action)
                if self._rng.random() < self._faults.undelivered_rate:
                    message.err_code = "MK:0001"
                messages.append(message)
                self.sent.append(message)
                self._by_phone.setdefault(phone, []).append(message)
                self._recent.setdefault((phone, template_code), []).append(now)
                self._recent.setdefault((phone, ""), []).append(now)
            heapq.heappush(self._due, _Due(time.monotonic() + self.receipt_delay, next(self._due_seq), messages))
            self._wake.notify_all()
        return biz_id

    def _check_limits(self, phones: list[str], template_code: str, now: datetime) -> None:
        minute_ago, today = now - timedelta(minutes=1), now.astimezone(BEIJING).date()
        counts = Counter(phones)
        for phone in counts:
            recent = [t for t in self._recent.get((phone, template_code), []) if t > minute_ago]
            self._recent[(phone, template_code)] = recent
            if len(recent) + counts[phone] > self.per_minute_limit:
                raise CarrierError("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级/分钟级流控")
            day = [t for t in self._recent.get((phone, ""), []) if t.astimezone(BEIJING).date() == today]
            self._recent[(phone, "")] = day
            if len(day) + counts[phone] > self.per_day_limit:
                raise CarrierError("isv.DAY_LIMIT_CONTROL", "触发日发送限额")

    def _add_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            template_type = int(_required(params, "TemplateType"))
        except ValueError:
            template_type = -1
        if template_type not in (0, 1, 2, 3):
            raise CarrierError("isv.INVALID_PARAMETERS", "模板类型不合法")
        content = _required(params, "TemplateContent")
        if len(content) > MAX_TEMPLATE_LENGTH:
            raise CarrierError("isv.PARAM_LENGTH_LIMIT", "模板内容超过长度限制")
        with self._lock:
            code = f"SMS_{next(self._template_codes)}"
            self.templates[code] = FiledTemplate(
                code, template_type, _required(params, "TemplateName"), content, params.get("Remark", ""), self._now()
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
            template = self.templates.get(_required(params, "TemplateCode"))
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
            "CreateDate": template.filed_at.astimezone(BEIJING).strftime(_DAY),
        }

    def _query_send_details(self, params: dict[str, str]) -> dict[str, Any]:
        match = _MOBILE.match(_required(params, "PhoneNumber").strip())
        if not match:
            raise CarrierError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        try:
            day = datetime.strptime(_required(params, "SendDate"), "%Y%m%d").date()
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

    # -- receipts --------------------------------------------------------------------------

    def _deliver_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while not self._stopping.is_set() and (not self._due or self._due[0].at > time.monotonic()):
                    self._wake.wait(timeout=(self._due[0].at - time.monotonic()) if self._due else 1.0)
                if self._stopping.is_set():
                    return
                due = heapq.heappop(self._due)
                if due.attempt == 0:
                    reported = self._now()
                    for m in due.messages:
                        m.status, m.reported_at = (FAILED, reported) if m.err_code else (DELIVERED, reported)
                        m.err_code = m.err_code or "DELIVERED"
            self._push_receipts(due)

    def _push_receipts(self, due: _Due) -> None:
        url = self.receipt_url
        if not url:
            return
        items = [_receipt(m) for m in due.messages]
        try:
            ok = self._http.post(url, json=items, timeout=10).status_code < 300
        except Exception:  # noqa: BLE001 - a receiver that is down gets the receipt again later
            ok = False
        with self._lock:
            if ok:
                self.receipts.extend(items)
            elif due.attempt + 1 < RECEIPT_ATTEMPTS:
                heapq.heappush(
                    self._due,
                    _Due(
                        time.monotonic() + self.receipt_retry_delay, next(self._due_seq), due.messages, due.attempt + 1
                    ),
                )

    # -- control endpoints -----------------------------------------------------------------

    def handle_control(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        route = (method, path.rstrip("/"))
        try:
            if route == ("GET", "/_simulator/health"):
                return 200, {"status": "ok", "sent": len(self.sent)}
            if route == ("GET", "/_simulator/sent"):
                full = dict(parse_qsl(query)).get("full") == "1"
                with self._lock:
                    return 200, [m.to_dict(full=full) for m in self.sent]
            if route == ("POST", "/_simulator/faults"):
                wanted = json.loads(body or b"{}")
                known = {f.name for f in fields(Faults)}
                if not isinstance(wanted, dict) or set(wanted) - known:
                    raise ValueError(f"faults are a JSON object with keys among {sorted(known)}")
                return 200, asdict(self.set_faults(**wanted))
            if route == ("POST", "/_simulator/replies"):
                wanted = json.loads(body or b"{}")
                if not isinstance(wanted, dict) or not {"phone", "content", "sign_name"} <= set(wanted):
                    raise ValueError("a reply is a JSON object with phone, content and sign_name")
                pushed = self.push_reply(str(wanted["phone"]), str(wanted["content"]), str(wanted["sign_name"]))
                pushed["item"]["phone_number"] = mask(pushed["item"]["phone_number"])
                return 200, pushed
        except (ValueError, TypeError) as error:
            return 400, {"error": {"code": "bad_request", "message": str(error)}}
        except RuntimeError as error:
            return 409, {"error": {"code": "conflict", "message": str(error)}}
        return 404, {"error": {"code": "not_found", "message": "no such simulator endpoint"}}

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def log(self, message: str) -> None:
        if self.verbose:
            line = {"level": "INFO", "service": "carrier-simulator", "message": redact(message)}
            sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")


def _parse_params(query: str, body: bytes) -> dict[str, str]:
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, errors="strict"))
        if body:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise CarrierError("InvalidParameter", "The request parameters are not valid UTF-8 form data.", 400) from None
    return params


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise CarrierError("isv.INVALID_PARAMETERS", f"参数 {name} 不能为空")
    return value


def _json_param(text: str | None, kind: type, name: str) -> Any:
    if text is None or text == "":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise CarrierError("isv.INVALID_JSON_PARAM", f"参数 {name} 不是合法的 JSON")
    return value


def _sms_size(content: str | None) -> str:
    length = len(content or "")
    return "1" if length <= 70 else str(math.ceil(length / 67))


def _detail(m: SentMessage) -> dict[str, Any]:
    return {
        "PhoneNum": m.phone,
        "SendStatus": m.status,
        "ErrCode": m.err_code if m.status != WAITING else "",
        "TemplateCode": m.template_code,
        "Content": m.content or "",
        "SendDate": m.sent_at.astimezone(BEIJING).strftime(_DAY),
        "ReceiveDate": m.reported_at.astimezone(BEIJING).strftime(_DAY) if m.reported_at else "",
        "OutId": m.out_id or "",
    }


def _receipt(m: SentMessage) -> dict[str, Any]:
    delivered = m.status == DELIVERED
    return {
        "phone_number": m.phone,
        "send_time": m.sent_at.astimezone(BEIJING).strftime(_DAY),
        "report_time": (m.reported_at or m.sent_at).astimezone(BEIJING).strftime(_DAY),
        "success": delivered,
        "err_code": m.err_code,
        "err_msg": "用户接收成功" if delivered else "用户未接收",
        "sms_size": _sms_size(m.content),
        "biz_id": m.biz_id,
        "out_id": m.out_id or "",
    }


def _handler_for(simulator: CarrierSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is exercised
        server_version = "CarrierSimulator/1.0"
        timeout = 120  # an idle keep-alive connection is closed after this long
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall

        def setup(self) -> None:
            super().setup()
            simulator._track(self.connection, True)

        def finish(self) -> None:
            simulator._track(self.connection, False)
            with contextlib.suppress(OSError):
                super().finish()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if parts.path.startswith("/_simulator/"):
                self._send(*simulator.handle_control(method, parts.path, parts.query, body))
                return
            if parts.path not in ("", "/"):
                self._send(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."})
                return
            reply = simulator.handle_api(method, parts.query, body)
            if reply.drop:  # the send is recorded but the caller never hears back
                self.close_connection = True
                return
            if reply.hang and simulator._stopping.wait(reply.hang):
                self.close_connection = True
                return
            self._send(reply.status, reply.body)

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the caller gave up (a hang longer than its timeout)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's naming
            simulator.log(format % args)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local carrier simulator (Alibaba Cloud SMS API). A test tool.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3900)
    parser.add_argument("--receipt-url", default=os.environ.get("CARRIER_RECEIPT_URL"))
    parser.add_argument("--inbound-url", default=os.environ.get("CARRIER_INBOUND_URL"))
    parser.add_argument("--receipt-delay", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    key_id, secret = os.environ.get("CARRIER_ACCESS_KEY_ID"), os.environ.get("CARRIER_ACCESS_KEY_SECRET")
    if not key_id or not secret:
        parser.error("set CARRIER_ACCESS_KEY_ID and CARRIER_ACCESS_KEY_SECRET in the environment")
    simulator = CarrierSimulator(
        args.host,
        args.port,
        {key_id: secret},
        receipt_url=args.receipt_url,
        inbound_url=args.inbound_url,
        receipt_delay=args.receipt_delay,
        seed=args.seed,
        verbose=True,
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    simulator.log(f"carrier simulator listening on {simulator.url}")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
