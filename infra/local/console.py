"""What ``make run`` shows a person at a terminal: a short summary once the platform is ready, then
one readable line per request or event. Pure functions of the records the platform logs, so the
JSON lines that tools read (``--json``, or any output that is not a terminal) say the same.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

MAX_LINE = 160
# Records a person does not need a line for: the summary says it, or it is bookkeeping.
QUIET = frozenset(
    {"sign_in", "development_defaults", "api_keys", "seeded_admin", "carrier", "tencent", "schedule", "moto_started"}
)
# Fields of a function's log line that every line has: the line names the function instead.
_FUNCTION_BOILERPLATE = frozenset(
    {
        "level", "location", "message", "timestamp", "service", "cold_start", "function_name", "function_memory_size",
        "function_arn", "function_request_id", "xray_trace_id", "sampling_rate", "correlation_id",
    }
)  # fmt: skip
KEY_KINDS = {
    "BUSINESS_API_KEY": "business system",
    "CHANNEL_API_KEY": "service channel",
    "BUSINESS_TEST_API_KEY": "business (test)",
    "CHANNEL_TEST_API_KEY": "channel (test)",
}
SECRETS = (
    ("HOTLINE_WEBHOOK_SECRET", "12333 hang-up webhook HMAC key (X-Hotline-Signature)"),
    ("PAYMENT_WEBHOOK_SECRET", "payment notification HMAC key (X-Payment-Signature)"),
    ("CARRIER_CALLBACK_TOKEN", "carrier push token (query parameter of its push URLs)"),
    ("CARRIER_ACCESS_KEY_ID", "carrier AccessKeyId"),
    ("CARRIER_ACCESS_KEY_SECRET", "carrier AccessKeySecret"),
    ("TENCENT_SECRET_ID", "Tencent SecretId"),
    ("TENCENT_SECRET_KEY", "Tencent SecretKey"),
    ("TENCENT_SMS_SDK_APP_ID", "Tencent SmsSdkAppId"),
)


def _clock(record: dict[str, Any]) -> str:
    try:
        return datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")
    except (KeyError, ValueError):
        return datetime.now().strftime("%H:%M:%S")


def _pairs(fields: dict[str, Any]) -> str:
    return " ".join(f"{key}={value if isinstance(value, str | int | float) else json.dumps(value)}"
                    for key, value in fields.items() if value not in (None, "", [], {}))  # fmt: skip


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def line(record: dict[str, Any]) -> str | None:
    """The line a person reads for one of the platform's records; None for none."""
    event, level = record.get("event", ""), record.get("level", "INFO")
    if event in QUIET and level == "INFO":
        return None
    when = _clock(record)
    fields = {k: v for k, v in record.items() if k not in ("time", "level", "service", "event")}
    if event == "request":
        route = f"{fields['method']} {fields['path']}"
        return _cut(f"{when}  {route:<44} → {fields['status']}  {fields['latency_ms']} ms")
    if event == "starting":
        clock = f" (platform clock {fields['clock']})" if fields.get("platform_clock") else ""
        return f"{when}  starting the local platform{clock}…"
    if event == "provisioned":
        return (f"{when}  created on moto: {fields['tables']} tables, {fields['queues']} queues, "
                f"{fields['functions']} functions, {fields['routes']} routes")  # fmt: skip
    if event == "ready":
        return None  # the summary takes its place
    if event in ("stopping", "stopped"):
        return f"{when}  {'stopping…' if event == 'stopping' else 'stopped.'}"
    label = f"{level} " if level != "INFO" else ""
    return _cut(f"{when}  {label}{event.replace('_', ' ')}  {_pairs(fields)}".rstrip())


def function_line(function: str, text: str) -> str | None:
    """The line a person reads for a line a function printed (powertools' JSON log, a metrics
    record, or plain text such as a traceback); None for none."""
    text = text.rstrip("\n")
    try:
        record = json.loads(text)
    except ValueError:
        return _cut(f"{function}: {text}") if text.strip() else None
    if not isinstance(record, dict) or "_aws" in record:
        return None  # CloudWatch metrics in embedded format
    level = str(record.get("level", "INFO"))
    if level == "DEBUG":
        return None
    when = _clock({"time": record.get("timestamp", "")})
    extra = {k: v for k, v in record.items() if k not in _FUNCTION_BOILERPLATE}
    label = f"{level} " if level != "INFO" else ""
    name = function.removesuffix("Function")
    return _cut(f"{when}  {name:<16} {label}{record.get('message', '')}  {_pairs(extra)}".rstrip())


def summary(
    ready: dict[str, Any], sign_in: dict[str, Any], defaults: dict[str, str], keys: list[dict[str, Any]]
) -> str:
    """What a person needs to start: where everything is, how to sign in, the development keys
    with their ids, and how to stop. A value the environment supplied is never shown."""
    api = ready["api"]
    supplied = "(your value from the environment)"
    rows = [
        "",
        "Weihai social-insurance SMS platform — running on this machine",
        "",
        f"  Portal           {ready['portal']}",
        f"  API              {api}/v1/",
        f"  API docs         {api}/v1/docs   (OpenAPI document: {api}/v1/openapi.json)",
        f"  Carrier          {ready['carrier']}" + ("   (simulator)" if ready.get("simulator", True) else ""),
        *(
            [f"  Tencent SMS      {ready['tencent']}" + ("   (simulator)" if ready.get("tencent_simulator") else "")]
            if ready.get("tencent") else []
        ),
        f"  AWS (moto)       {ready['moto']}",
        "",
        "Sign in to the portal as the permission administrator:",
        f"  username {sign_in['username']}   password {sign_in.get('password') or supplied}",
        "  (the first sign-in asks to enrol an authenticator app: TOTP)",
        "",
        "API keys (header X-Api-Key; ids are what IT operations grant event types and sources to;",
        "a test key is answered as its live twin, and its messages never reach the carrier):",
    ]
    for key in keys:
        kind = KEY_KINDS.get(key["env"], key["env"])
        twin = f"   (test twin of {key['twin']})" if key.get("twin") else ""
        rows.append(f"  {kind:<16} id {key['id']:<12} {key.get('value') or supplied}{twin}")
    rows += ["", "Secrets of the outside systems:"]
    rows += [f"  {label:<54} {defaults.get(name) or supplied}" for name, label in SECRETS]
    rows += ["", "Ctrl-C stops everything. JSON lines instead of this: python -m infra.local --json", ""]
    return "\n".join(rows)
