"""Logger, metrics and tracer, made once per process and shared by every module.

Every handler wears the three in the order of powertools' examples::

    @logger().inject_lambda_context(clear_state=True)
    @metrics().log_metrics(capture_cold_start_metric=True)
    @tracer().capture_lambda_handler(capture_response=False)
    def handler(event, context): ...

- Logs are JSON lines (powertools Logger). A redacting formatter masks anything that looks like a
  mainland mobile number, a resident ID number or a ``token=`` query value before it is written,
  as a safety net: code already logs only masked values and keyed hashes.
- Metrics are EMF documents in the log, in the namespace ``POWERTOOLS_METRICS_NAMESPACE``: each
  function's cold starts (``ColdStart``) and the dispatcher's counts (``sending.dispatcher.Tally``).
  ``log_metrics`` flushes at the end of an invocation whatever it added; most add nothing, so
  powertools' warning about an empty flush is turned off here.
- Traces go to X-Ray (the template sets ``Tracing: Active``), with the AWS and carrier calls as
  subsegments. A handler's response is never put in its trace (``capture_response=False``):
  responses carry tokens, one-time passwords, revealed numbers and whole files, and traces are
  not redacted. Tracing turns itself off outside Lambda (tests) and where
  ``POWERTOOLS_TRACE_DISABLED`` is true (``make run``: no X-Ray daemon runs locally); the
  decorator then only calls the handler.

The tracer is made when a handler module is imported, as its decorator needs it. That imports
the X-Ray SDK and, with tracing on, requests, to patch it with botocore: 30 to 50 ms more CPU
to a handler's cold import in Lambda (``python -m benchmarks imports`` imports each handler
so), within every handler's target. Made on the first invocation instead, it would cost the
same cold start, only later, and an environment started ahead of time could not pay it early.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# A mobile number and an ID number both stand alone: a letter or digit on either side means the
# digits are part of something else, such as a template id of hex digits (``tpl-c16675232156``),
# which must stay whole in the audit trail. Chinese text, spaces and punctuation still count as
# a number's edges.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9A-Za-z])")
# A resident ID number: region, a birth date (so carrier BizIds and order numbers are left alone),
# sequence and check character.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(\d{3}[\dXx])(?![0-9A-Za-z])"
)
_TOKEN = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask mobile numbers (``138****1234``), ID numbers and callback tokens in free text."""
    text = _TOKEN.sub(r"\1***", text)
    # The same mask as identifiers.mask_id_number (not imported: logging must stay light).
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 11}{m.group(2)[-1]}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


@lru_cache(maxsize=1)
def logger() -> Any:
    class RedactingFormatter(LambdaPowertoolsFormatter):
        def format(self, record: Any) -> str:  # noqa: A003 - logging's own name
            return redact(super().format(record))

    return Logger(logger_formatter=RedactingFormatter(), utc=True)


@lru_cache(maxsize=1)
def metrics() -> Any:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    return Metrics()


@lru_cache(maxsize=1)
def tracer() -> Any:
    return Tracer()
