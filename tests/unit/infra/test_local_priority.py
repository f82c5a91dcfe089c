"""The local platform's priorities (infra/local/priority.py, and the patches behind them:
infra/patches/urgent_calls.py, urgent_first.py and frozen_state.py): which environments are
urgent or background, the header urgent AWS calls carry, and moto serving urgent calls ahead of
the rest."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra import patches
from infra.local import priority
from infra.patches import urgent_calls
from infra.patches.urgent_first import UrgentFirst


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("HighQueue", priority.URGENT),
        ("NormalQueue", None),
        ("BulkQueue", priority.BACKGROUND),
        ("FanoutQueue", priority.BACKGROUND),
        ("WorkQueue", priority.BACKGROUND),
        ("PushQueue", priority.BACKGROUND),
    ],
)
def test_lane_environments_have_the_lanes_priority(queue: str, expected: str | None) -> None:
    assert priority.of_queue(queue) == expected


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("HotlineFunction", priority.URGENT),
        ("TriggerEventsFunction", priority.URGENT),
        ("SubscribeFunction", priority.URGENT),
        ("CarrierCallbacksFunction", None),  # answers at once; the push worker's queue waits
        ("StaffApiFunction", None),
    ],
)
def test_api_environments_have_their_functions_priority(function: str, expected: str | None) -> None:
    assert priority.of_function(function) == expected


def test_every_class_named_is_a_queue_or_function_of_the_template() -> None:
    from infra import template_model

    model = template_model.load()
    queues = {source.queue for source in model.queue_sources}
    assert queues >= priority.URGENT_QUEUES | priority.BACKGROUND_QUEUES
    assert set(model.functions) >= priority.URGENT_FUNCTIONS | priority.BACKGROUND_FUNCTIONS


def test_an_urgent_process_marks_every_aws_call_it_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore import handlers

    monkeypatch.setattr(handlers, "BUILTIN_HANDLERS", list(handlers.BUILTIN_HANDLERS))  # undone after
    seen: list[dict[str, str]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            seen.append(dict(self.headers))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"QueueUrls": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        import boto3

        def list_queues() -> None:
            session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
            client = session.client("sqs", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}")
            client.list_queues()

        list_queues()
        installed = priority.mark_urgent_calls()
        priority.mark_urgent_calls()  # a second call adds nothing
        list_queues()
    finally:
        server.shutdown()

    if not patches.switched_on():  # PLATFORM_MOTO_PATCHES=off: botocore left as it is
        assert installed == []
        assert all(urgent_calls.HEADER not in headers for headers in seen)
        return
    assert installed == ["urgent_calls"]
    assert urgent_calls.HEADER not in seen[0]
    assert seen[1][urgent_calls.HEADER] == urgent_calls.URGENT
    assert sum(1 for entry in handlers.BUILTIN_HANDLERS if entry[1] is urgent_calls._mark) == 1


class _Calls:
    """A stand-in for moto behind ``UrgentFirst``: each call logs its steps; a call that is not
    urgent passes a pause point between its two steps, as moto's DynamoDB does between items."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gate = UrgentFirst(self.app)
        self.urgent_started = threading.Event()
        self.release_urgent = threading.Event()
        self.background_started = threading.Event()
        self.release_background = threading.Event()

    def app(self, environ: dict[str, Any], _start: Any) -> list[bytes]:
        name = environ["name"]
        if name.startswith("urgent"):
            self.log.append(f"{name} runs")
            self.urgent_started.set()
            self.release_urgent.wait(5)
            self.log.append(f"{name} done")
        else:
            self.log.append(f"{name} first item")
            self.background_started.set()
            self.release_background.wait(5)
            self.gate.pause_point()
            self.log.append(f"{name} second item")
        return [b""]

    def call(self, name: str, *, urgent: bool = False, target: str = "DynamoDB_20120810.GetItem") -> threading.Thread:
        environ = {"name": name, "HTTP_X_AMZ_TARGET": target}
        if urgent:
            environ["HTTP_X_LOCAL_PRIORITY"] = urgent_calls.URGENT
        thread = threading.Thread(target=self.gate, args=(environ, None), daemon=True)
        thread.start()
        return thread


def test_a_call_already_running_steps_aside_at_its_next_item_while_an_urgent_call_is_served() -> None:
    calls = _Calls()
    background = calls.call("bulk")
    assert calls.background_started.wait(5)
    urgent = calls.call("urgent", urgent=True)
    assert calls.urgent_started.wait(5)
    calls.release_background.set()  # the bulk call reaches its pause point while the urgent one runs
    time.sleep(0.1)
    calls.release_urgent.set()
    urgent.join(5)
    background.join(5)

    assert calls.log == ["bulk first item", "urgent runs", "urgent done", "bulk second item"]


def test_a_call_waits_to_start_while_an_urgent_call_is_served_and_then_runs_alone() -> None:
    calls = _Calls()
    urgent = calls.call("urgent", urgent=True)
    assert calls.urgent_started.wait(5)
    first, second = calls.call("bulk-1"), calls.call("bulk-2")
    time.sleep(0.1)
    assert calls.log == ["urgent runs"]  # neither started
    calls.release_urgent.set()
    urgent.join(5)
    time.sleep(0.1)
    # One call that is not urgent at a time: the other has not started its first item.
    assert calls.log[2:] in (["bulk-1 first item"], ["bulk-2 first item"])
    calls.release_background.set()
    first.join(5)
    second.join(5)
    steps = ["bulk-1 first item", "bulk-1 second item", "bulk-2 first item", "bulk-2 second item"]
    assert sorted(calls.log[2:]) == steps


def test_a_call_waits_for_urgent_calls_at_most_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UrgentFirst, "MOST_WAIT", 0.1)
    calls = _Calls()
    urgent = calls.call("urgent", urgent=True)  # never ends on its own in this test
    assert calls.urgent_started.wait(5)
    calls.release_background.set()
    background = calls.call("bulk")
    background.join(2)

    assert not background.is_alive()
    assert calls.log == ["urgent runs", "bulk first item", "bulk second item"]
    calls.release_urgent.set()
    urgent.join(5)


def test_a_long_poll_neither_waits_for_urgent_calls_nor_holds_others_back() -> None:
    calls = _Calls()
    urgent = calls.call("urgent", urgent=True)
    assert calls.urgent_started.wait(5)
    calls.release_background.set()
    receive = calls.call("receive", target="AmazonSQS.ReceiveMessage")
    receive.join(2)

    assert not receive.is_alive()
    assert calls.log[:2] == ["urgent runs", "receive first item"]
    calls.release_urgent.set()
    urgent.join(5)


def test_moto_state_that_survives_a_full_collection_is_left_out_of_later_ones() -> None:
    script = (
        "import gc, time\n"
        "from infra.patches import frozen_state\n"
        "before = gc.get_freeze_count()\n"
        "frozen_state.apply()\n"
        "state = [{'item': n} for n in range(10_000)]\n"
        "gc.collect()\n"
        "deadline = time.monotonic() + 5\n"
        "while gc.get_freeze_count() == before and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print(before, gc.get_freeze_count())\n"
    )
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    before, after = (int(n) for n in answer.stdout.split())
    assert before == 0
    assert after > 10_000  # the state above and everything else alive, frozen
