"""``make run`` as a person and as a tool meet it: at a terminal a short summary and one readable
line per request; JSON lines otherwise; and a restart on the same ports right after Ctrl-C, even
when a carrier client's keep-alive connections to the simulator were open as it stopped."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import ROOT, _ports

pytestmark = [pytest.mark.e2e]


class TerminalRun:
    """``python -m infra.local`` with a terminal for its output, as ``make run`` in a shell."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(  # noqa: S603 - the project's own interpreter and module
            [sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdin=child, stdout=child, stderr=child,
            start_new_session=True,
        )  # fmt: skip
        os.close(child)
        self.output = ""

    def read_until(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        assert text in self.output, f"no {text!r} within {timeout:.0f} s:\n{self.output[-3000:]}"
        return self.output

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = -1
        self.read_until_closed()
        os.close(self.fd)
        return code

    def read_until_closed(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                return
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk.decode("utf-8", "replace")


def _hangup(api: str) -> requests.Response:
    body = json.dumps(
        {"call_id": "start-up-1", "caller": "13800000000", "agent_id": "A1", "ended_at": "2024-06-03T09:30:00+08:00"}
    )
    timestamp = str(int(time.time()))
    signature = hmac.new(b"local-hotline-secret", f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature, "Content-Type": "application/json"}
    return requests.post(f"{api}/v1/hotline/hangups", data=body, headers=headers, timeout=60)


def _environment(ports: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PLATFORM_CLOCK", "CARRIER_ENDPOINT", "AWS_ENDPOINT_URL")}
    env.pop("LOCAL_PLATFORM_LOG", None)
    return {**env, **ports, "PYTHONUNBUFFERED": "1"}


def test_at_a_terminal_make_run_prints_a_short_summary_and_a_line_per_request():
    ports = _ports(False)
    run = TerminalRun(_environment(ports))
    try:
        text = run.read_until("Ctrl-C stops everything", timeout=90)
        api = f"http://127.0.0.1:{ports['API_PORT']}"
        answer = requests.get(f"{api}/v1/subscriptions/products", headers={"X-Api-Key": "nobody"}, timeout=30)
        assert answer.status_code == 403
        run.read_until("GET /v1/subscriptions/products", timeout=10)
        assert _hangup(api).status_code == 202
        run.read_until("hang-up received", timeout=30)  # the function's own log line, readable
    finally:
        code = run.stop()

    summary = text[text.index("running on this machine") :]
    for shown in (f"{api}/portal/", f"{api}/v1/docs", f"http://127.0.0.1:{ports['CARRIER_PORT']}/", "username admin",
                  "local-business-system-api-key-0001", "local-hotline-secret", "Ctrl-C stops everything"):  # fmt: skip
        assert shown in summary
    ids = re.findall(r"id (\w+) +local-(?:business|service)", summary)
    assert len(ids) == 4  # a live and a test key for business systems and for service channels
    twins = re.findall(r"id (\w+) +local-\S+-test-key-0001 +\(test twin of (\w+)\)", summary)
    assert len(twins) == 2 and {twin for _, twin in twins} <= set(ids)
    assert max(len(line) for line in summary.splitlines()) < 120  # no line of thousands of characters
    assert not [line for line in run.output.splitlines() if line.lstrip().startswith('{"')]  # no JSON lines
    assert re.search(r"GET /v1/subscriptions/products +→ 403", run.output)
    assert re.search(r"Hotline +hang-up received +call_id=start-up-1 status=awaiting_agent", run.output)
    assert "stopped." in run.output and code == 0


def test_a_restart_on_the_same_ports_right_after_a_carrier_client_used_the_simulator(start_platform):
    first = start_platform()
    carrier = first.carrier
    # A carrier client's pool: keep-alive connections, left open while the platform stops.
    clients = [requests.Session() for _ in range(3)]
    for client in clients:
        for _ in range(3):
            assert client.get(f"{carrier}/_simulator/health", timeout=10).status_code == 200
    ports = {"API_PORT": first.api.rsplit(":", 1)[1], "CARRIER_PORT": carrier.rsplit(":", 1)[1],
             "TENCENT_PORT": first.ready["tencent"].rstrip("/").rsplit(":", 1)[1],
             "MOTO_PORT": first.moto.rsplit(":", 1)[1]}  # fmt: skip

    assert first.stop() == (0, [])
    for client in clients:
        client.close()
    with socket.socket() as probe, pytest.raises(OSError):  # the stopped server's side waits (TIME_WAIT)
        probe.bind(("127.0.0.1", int(ports["CARRIER_PORT"])))
    again = start_platform(ports)

    assert again.carrier == carrier and again.api == first.api
    assert requests.get(f"{again.carrier}/_simulator/health", timeout=10).status_code == 200
    assert requests.get(f"{again.api}/v1/openapi.json", timeout=60).status_code == 200
