"""Execution environments of the local platform: real worker processes running a small handler."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from infra.local.lambdas import InvocationError, Pool
from infra.template_model import Function

HANDLER = textwrap.dedent(
    """
    import os
    import time

    STARTED = time.time()  # module state: one copy per environment

    def handler(event, context):
        if event.get("raise"):
            raise ValueError("the handler refused")
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return {
            "event": event,
            "pid": os.getpid(),
            "started": STARTED,
            "name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
            "table": os.environ.get("MESSAGES_TABLE"),
        }
    """
)


@pytest.fixture
def pool(tmp_path):
    (tmp_path / "probe_handler.py").write_text(HANDLER)
    (tmp_path / "broken_handler.py").write_text("raise ImportError('a missing dependency')\n")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "MESSAGES_TABLE": "weihai-sms-test-MessagesTable",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    pools: list[Pool] = []

    def make(handler: str = "probe_handler.handler", timeout: int = 2, size: int = 1) -> Pool:
        function = Function("ProbeFunction", str(tmp_path), handler, timeout, 128)
        made = Pool(function, size, lambda: environment)
        pools.append(made)
        return made

    yield make
    for made in pools:
        made.close()


def test_an_environment_runs_the_handler_with_a_lambda_context_and_stays_warm(pool):
    probe = pool()

    first = probe.invoke({"n": 1}).result
    second = probe.invoke({"n": 2}).result

    assert first["event"] == {"n": 1} and second["event"] == {"n": 2}
    assert first["name"] == "ProbeFunction"
    assert 0 < first["remaining_ms"] <= 2000
    assert first["request_id"] != second["request_id"]
    assert first["table"] == "weihai-sms-test-MessagesTable"
    assert (second["pid"], second["started"]) == (first["pid"], first["started"])  # warm: the same environment
    assert first["pid"] != os.getpid()


def test_a_handler_error_is_reported_and_the_environment_kept(pool):
    probe = pool()

    with pytest.raises(InvocationError) as raised:
        probe.invoke({"raise": True})
    after = probe.invoke({}).result

    assert (raised.value.error_type, raised.value.message) == ("ValueError", "the handler refused")
    assert after["event"] == {}


def test_a_timed_out_invocation_ends_its_environment_and_the_next_gets_a_fresh_one(pool):
    probe = pool(timeout=1)
    before = probe.invoke({}).result

    with pytest.raises(InvocationError) as raised:
        probe.invoke({"sleep": 5})
    after = probe.invoke({}).result

    assert raised.value.error_type == "TimeoutError"
    assert after["pid"] != before["pid"]


def test_an_init_error_fails_the_invocation(pool):
    broken = pool(handler="broken_handler.handler")

    with pytest.raises(InvocationError) as raised:
        broken.invoke({})

    assert raised.value.error_type == "ImportError"
    assert "a missing dependency" in raised.value.message


def test_concurrent_invocations_get_separate_environments_up_to_the_pool_size(pool):
    from concurrent.futures import ThreadPoolExecutor

    probe = pool(size=2)
    with ThreadPoolExecutor(4) as executor:
        answers = list(executor.map(lambda n: probe.invoke({"sleep": 0.3, "n": n}).result, range(4)))

    assert sorted(a["event"]["n"] for a in answers) == [0, 1, 2, 3]
    assert len({a["pid"] for a in answers}) == 2
