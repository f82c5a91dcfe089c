"""What ``make run`` shows: the form of its output (a summary and readable lines at a terminal,
JSON lines for tools), each line a person reads, and the free-port check a restart relies on."""

from __future__ import annotations

import io
import json
import re
import socket
import time

import pytest

from infra.local import console, logs, settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("argv", "env", "stream", "mode"),
    [
        ([], {}, Terminal(), "human"),
        ([], {}, io.StringIO(), "json"),  # a pipe, a file: tools read it
        (["--json"], {}, Terminal(), "json"),
        (["--json"], {"LOCAL_PLATFORM_LOG": "human"}, Terminal(), "json"),
        ([], {"LOCAL_PLATFORM_LOG": "json"}, Terminal(), "json"),
        ([], {"LOCAL_PLATFORM_LOG": "Human"}, io.StringIO(), "human"),
    ],
)
def test_the_output_is_for_people_at_a_terminal_and_json_lines_otherwise(argv, env, stream, mode):
    assert logs.choose_mode(argv, env, stream) == mode


def test_a_mistyped_output_form_stops_the_start_naming_the_variable():
    with pytest.raises(SystemExit, match="LOCAL_PLATFORM_LOG"):
        logs.choose_mode([], {"LOCAL_PLATFORM_LOG": "pretty"}, io.StringIO())


def _record(event: str, level: str = "INFO", **fields) -> dict:
    return {"time": "2024-06-03T01:30:05.123Z", "level": level, "service": "local-platform", "event": event, **fields}


def test_a_request_is_one_short_line_with_its_route_status_and_time():
    shown = console.line(_record("request", method="POST", path="/v1/events", route="/v1/events", status=202,
                                 latency_ms=35))  # fmt: skip

    assert shown is not None and re.search(r"  POST /v1/events +→ 202  35 ms$", shown)
    assert len(shown) <= console.MAX_LINE


@pytest.mark.parametrize("event", ["sign_in", "development_defaults", "api_keys", "schedule", "ready"])
def test_what_the_summary_says_gets_no_line_of_its_own(event):
    assert console.line(_record(event, username="admin")) is None


def test_an_error_names_its_level_and_fields_on_one_line():
    shown = console.line(_record("function_error", "ERROR", function="HotlineFunction", error="TimeoutError",
                                 message="x" * 500))  # fmt: skip

    assert "ERROR function error" in shown and "function=HotlineFunction" in shown and "error=TimeoutError" in shown
    assert len(shown) == console.MAX_LINE and shown.endswith("…")


def test_a_functions_log_line_reads_as_its_function_message_and_own_fields():
    powertools = {
        "level": "INFO", "location": "post_event:57", "message": "business event accepted",
        "timestamp": "2024-06-03 01:30:05,123+0000", "service": "weihai-sms", "cold_start": True,
        "function_name": "TriggerEventsFunction", "function_request_id": "r-1", "xray_trace_id": "1-2-3",
        "event_type": "pension.paid", "matched_rules": 1, "messages": 1,
    }  # fmt: skip

    shown = console.function_line("TriggerEventsFunction", json.dumps(powertools) + "\n")

    assert "TriggerEvents" in shown and "business event accepted" in shown
    assert "event_type=pension.paid matched_rules=1 messages=1" in shown
    assert "cold_start" not in shown and "xray" not in shown and "location" not in shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"_aws": {"CloudWatchMetrics": []}, "ColdStart": [1.0]}', None),  # metrics, not a log line
        ('{"level": "DEBUG", "message": "details"}', None),
        ("", None),
        ("Traceback (most recent call last):", "HotlineFunction: Traceback (most recent call last):"),
    ],
)
def test_metrics_and_debug_lines_are_left_out_and_plain_text_is_shown_as_it_is(text, shown):
    assert console.function_line("HotlineFunction", text) == shown


READY = {
    "api": "http://127.0.0.1:3000",
    "portal": "http://127.0.0.1:3000/portal/",
    "docs": "http://127.0.0.1:3000/v1/docs",
    "carrier": "http://127.0.0.1:3900/",
    "simulator": True,
    "moto": "http://127.0.0.1:4566",
}
KEYS = [
    {"env": "BUSINESS_API_KEY", "id": "k1b2c3", "name": "local-business-api-key", "value": "local-business-key"},
    {"env": "CHANNEL_API_KEY", "id": "z9y8x7", "name": "local-channel-api-key", "value": None},
    {"env": "BUSINESS_TEST_API_KEY", "id": "t5u6v7", "name": "local-business-test-api-key", "value": "local-test-key",
     "kind": "test", "twin": "k1b2c3"},
]


def test_the_summary_says_where_everything_is_how_to_sign_in_the_keys_with_their_ids_and_how_to_stop():
    defaults = {name: settings.DEFAULTS[name] for name in ("HOTLINE_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET")}
    text = console.summary(READY, {"username": "admin", "password": "Weihai-12333-dev!"}, defaults, KEYS)

    for shown in ("http://127.0.0.1:3000/portal/", "http://127.0.0.1:3000/v1/docs", "http://127.0.0.1:3900/",
                  "username admin", "Weihai-12333-dev!", "id k1b2c3", "local-business-key", "id z9y8x7",
                  "local-hotline-secret", "local-payment-secret", "Ctrl-C",
                  "business (test)  id t5u6v7       local-test-key   (test twin of k1b2c3)"):  # fmt: skip
        assert shown in text
    # Values the environment supplied are never shown: the channel key and the callback token here.
    # channel key, token, carrier pair, Tencent pair and application id
    assert text.count("(your value from the environment)") == 7
    assert max(len(row) for row in text.splitlines()) < 120


def test_the_summary_names_the_tencent_simulator_or_the_endpoint_set():
    simulated = console.summary({**READY, "tencent": "http://127.0.0.1:3901/", "tencent_simulator": True},
                                {"username": "admin"}, {}, KEYS)  # fmt: skip
    real = console.summary({**READY, "tencent": "https://sms.tencentcloudapi.com/", "tencent_simulator": False},
                           {"username": "admin"}, {}, KEYS)  # fmt: skip
    assert "  Tencent SMS      http://127.0.0.1:3901/   (simulator)" in simulated.splitlines()
    assert "  Tencent SMS      https://sms.tencentcloudapi.com/" in real.splitlines()


def test_the_free_port_check_allows_reuse_as_the_servers_do_but_not_a_port_in_use():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((settings.HOST, 0))
    port = listener.getsockname()[1]
    listener.listen()
    assert settings.port_is_free(port) is False  # something is serving there

    # A keep-alive connection the server closes first (as a stopping server does) leaves its
    # side in TIME_WAIT on the port.
    client = socket.create_connection((settings.HOST, port))
    accepted, _ = listener.accept()
    accepted.close()
    time.sleep(0.1)
    client.close()
    listener.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind((settings.HOST, port))  # a probe without reuse is refused for a minute

    assert settings.port_is_free(port) is True
