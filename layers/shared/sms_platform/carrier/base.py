"""What every carrier the platform sends through has in common, written once.

Each provider (``alibaba``: Alibaba Cloud SMS; ``tencent``: Tencent Cloud SMS) answers every
call with a ``CarrierResult`` whose ``outcome`` tells the caller what to do next:

- ``OK``: accepted.
- ``REJECTED``: the request is at fault (bad number, template, signature, credentials); sending
  it again can only fail again, so it is never retried.
- ``LIMITED``: a frequency limit; retry after a long delay, a few times at most.
- ``RETRY``: the carrier did not take the request (no connection, HTTP 5xx, throttling); it is
  safe to send again with backoff, through this carrier or another.
- ``UNKNOWN``: the request went out but no answer came back (a read timeout, a dropped
  connection). No carrier deduplicates, so sending again could send twice: the outcome is
  settled by asking the same carrier (``Carrier.find_sent``), never by sending again anywhere.

A carrier that answers per number (Tencent's ``SendStatusSet``) also gives one
``RecipientResult`` each, with that carrier's id of the message (``carrier_id``: Tencent's
SerialNo; Alibaba's BizId is one per request). What a carrier says about a message it took,
when asked later, is a ``SentRecord``; the state of a filed template, a ``FilingAnswer``.

``Carrier`` is the protocol the dispatcher and the filing step use, whichever provider is
behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class CarrierName(StrEnum):
    ALIBABA = "alibaba"
    TENCENT = "tencent"


class Outcome(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    LIMITED = "limited"
    RETRY = "retry"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RecipientResult:
    """What a carrier answered for one number of a request (mainland number, 11 digits)."""

    phone: str
    outcome: Outcome
    code: str
    message: str = ""
    carrier_id: str | None = None
    fee: int | None = None


@dataclass(frozen=True)
class CarrierResult:
    outcome: Outcome
    code: str
    message: str
    biz_id: str | None = None
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    carrier: str = CarrierName.ALIBABA.value
    recipients: tuple[RecipientResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def carrier_ids(self) -> dict[str, str]:
        """The carrier's id of each number's message that it took (number to id)."""
        return {r.phone: r.carrier_id for r in self.recipients if r.outcome is Outcome.OK and r.carrier_id}


class DeliveryStatus(StrEnum):
    WAITING = "waiting"  # taken, no receipt from the handset yet
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class SentRecord:
    """What a carrier's own record says became of a message it took (the settlement of an
    unknown outcome): its status, the failure code if it failed, and its id at that carrier."""

    status: DeliveryStatus
    error_code: str | None = None
    carrier_id: str | None = None


@dataclass(frozen=True)
class Lookup:
    """The answer to "did you take this message?": ``found`` is None when the carrier has no
    record of it, and ``outcome`` is not OK when the carrier could not be asked (try later)."""

    outcome: Outcome
    found: SentRecord | None = None
    code: str = ""


class FilingState(StrEnum):
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class FilingAnswer:
    """A template filed with a carrier, or asked about: its id there and its review's state.

    ``placeholders`` are, for a carrier with positional placeholders (``{1}``, ``{2}`` ...),
    the platform's variable names in position order (``placeholders.to_positional``); empty
    where the carrier takes the named ``${name}`` form as it is."""

    result: CarrierResult
    template_id: str | None = None
    state: FilingState | None = None
    reason: str = ""
    placeholders: tuple[str, ...] = ()


class TemplateKind(StrEnum):
    """What a template is for, in the words every carrier's filing understands."""

    CODE = "code"
    NOTICE = "notice"
    PUBLICITY = "publicity"


@dataclass(frozen=True)
class CarrierTemplate:
    """A template as one carrier knows it: its id there, and for a positional carrier the
    variable names in position order (kept per template version)."""

    template_id: str
    placeholders: tuple[str, ...] = ()


Values = Mapping[str, Any] | None


class Carrier(Protocol):
    """A carrier the platform sends through and files templates with."""

    name: str
    max_numbers: int  # numbers in one send request

    def send(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template: CarrierTemplate,
        values: Values | Sequence[Values],
        out_id: str | None,
    ) -> CarrierResult:
        """One template to ``phone_numbers`` (mainland, 11 digits): ``values`` shared by all,
        or one mapping per number; ``out_id`` the platform's reference, which the carrier keeps
        with each message and settling looks for."""
        ...

    def file_template(self, kind: TemplateKind, name: str, content: str, remark: str) -> FilingAnswer:
        """File a template (the platform's ``${name}`` form) for review."""
        ...

    def filing_status(self, template_id: str) -> FilingAnswer:
        """The review's state of a filed template."""
        ...

    def find_sent(self, phone: str, out_id: str, sent_at: datetime) -> Lookup:
        """What became of the message with ``out_id`` to ``phone`` handed over at ``sent_at``."""
        ...


def classify_exception(exc: BaseException) -> Outcome:
    """RETRY when the request surely never reached the carrier, else UNKNOWN."""
    # deferred: requests costs ~50 ms where the tracer has not loaded it, and only a failed
    # call gets here
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


POOL_SIZE = 10
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds


def pooled_session() -> Any:
    """A ``requests.Session`` keeping up to ``POOL_SIZE`` connections to a carrier, with no
    automatic retries: whether a failed call may be repeated is the caller's decision, made from
    the outcome (a blind retry after a read timeout could send twice)."""
    # deferred: requests costs ~50 ms where the tracer has not loaded it; only a client needs it
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def log_call(logger: Any, carrier: str, action: str, result: CarrierResult, **fields: Any) -> None:
    """One log line per carrier call: only counts and ids, never numbers, values or secrets."""
    extra = {k: v for k, v in fields.items() if v is not None}
    extra.update(
        carrier=carrier,
        action=action,
        outcome=result.outcome.value,
        carrier_code=result.code,
        biz_id=result.biz_id,
        request_id=result.request_id,
    )
    level = "info" if result.outcome is Outcome.OK else "warning"
    getattr(logger, level)("carrier call", extra=extra)


def check_numbers(phone_numbers: Sequence[str], limit: int) -> None:
    if isinstance(phone_numbers, str):
        raise ValueError("phone_numbers must be a list of numbers")
    if not phone_numbers:
        raise ValueError("no phone numbers to send to")
    if len(phone_numbers) > limit:
        raise ValueError(f"{len(phone_numbers)} phone numbers in one request; the carrier allows {limit}")
