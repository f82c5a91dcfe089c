"""The local Tencent simulator: receipts and replies pushed in Tencent's shapes (and pushed again
when refused), numbers set undelivered with a chosen status, the faults and control endpoints it
shares with the Alibaba simulator, its refusals, and its command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sms_platform.carrier import tc3
from sms_platform.carrier.base import CarrierTemplate, Outcome
from sms_platform.carrier.tencent import TencentClient

from infra.tencent_simulator import TencentSimulator
from tests.tencent_fixtures import TEST_SDK_APP_ID, TEST_SECRET_ID, TEST_SECRET_KEY

PHONE = "13800138000"
TEMPLATE = CarrierTemplate("1001", ("name",))


class Receiver:
    """The platform's Tencent push routes, standing in: answers ``{"result": 0}`` or as told."""

    def __init__(self, results=()):
        self.requests: list[tuple[str, object]] = []
        self.results = list(results)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, json.loads(body)))
                result = receiver.results.pop(0) if receiver.results else 0
                data = json.dumps({"result": result, "errmsg": "OK" if result == 0 else "busy"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def simulator():
    with TencentSimulator(secret_keys={TEST_SECRET_ID: TEST_SECRET_KEY}, sdk_app_id=TEST_SDK_APP_ID) as running:
        running.file_template("1001", "{1}您好。")
        running.receipt_delay = 0.05
        running.receipt_retry_delay = 0.05
        yield running


@pytest.fixture
def client(simulator):
    made = TencentClient(simulator.url, TEST_SECRET_ID, TEST_SECRET_KEY, TEST_SDK_APP_ID, timeout=(1.0, 2.0))
    yield made
    made.close()


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_receipts_are_pushed_in_tencents_shape_with_each_serial(simulator, client):
    receiver = Receiver()
    try:
        simulator.receipt_url = receiver.url + "/v1/carrier/tencent/receipts?token=t"
        simulator.set_undelivered({"13900139000": "DB:0101"})
        result = client.send([PHONE, "13900139000"], "威海人社", TEMPLATE, {"name": "张三"}, "evt#r1")
        assert wait_for(lambda: len(simulator.receipts) == 2)
        path, items = receiver.requests[0]
        assert path == "/v1/carrier/tencent/receipts?token=t"
        serials = result.carrier_ids()
        assert sorted((i["mobile"], i["report_status"], i["errmsg"], i["sid"], i["nationcode"]) for i in items) == [
            (PHONE, "SUCCESS", "DELIVRD", serials[PHONE], "86"),
            ("13900139000", "FAIL", "DB:0101", serials["13900139000"], "86"),
        ]
        assert set(items[0]) == {"user_receive_time", "nationcode", "mobile", "report_status", "errmsg",
                                 "description", "sid"}  # fmt: skip
    finally:
        receiver.close()


def test_a_refused_receipt_is_pushed_again(simulator, client):
    receiver = Receiver(results=[1])
    try:
        simulator.receipt_url = receiver.url + "/r"
        client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#r2")
        assert wait_for(lambda: len(simulator.receipts) == 1)
        assert len(receiver.requests) == 2
    finally:
        receiver.close()


def test_a_reply_is_pushed_in_tencents_shape_and_masked_on_the_control_answer(simulator):
    receiver = Receiver()
    try:
        simulator.inbound_url = receiver.url + "/v1/carrier/tencent/inbound?token=t"
        answer = requests.post(simulator.url + "_simulator/replies",
                               json={"phone": PHONE, "content": "TD", "sign_name": "威海人社"}, timeout=5)  # fmt: skip
        assert answer.status_code == 200 and answer.json()["item"]["mobile"] == "138****8000"
        [(path, [item])] = receiver.requests
        assert path.startswith("/v1/carrier/tencent/inbound")
        assert (item["mobile"], item["text"], item["sign"], item["nationcode"]) == (PHONE, "TD", "威海人社", "86")
        assert isinstance(item["time"], int) and set(item) == {"extend", "mobile", "nationcode", "sign", "text", "time"}
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("faults", "outcome"),
    [({"throttle_rate": 1.0}, Outcome.LIMITED), ({"fail_rate": 1.0}, Outcome.RETRY)],
)
def test_faults_are_set_over_http_and_cleared(simulator, client, faults, outcome):
    assert requests.post(simulator.url + "_simulator/faults", json=faults, timeout=5).status_code == 200
    assert client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#f").outcome is outcome
    requests.post(simulator.url + "_simulator/faults", json={}, timeout=5)
    assert client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#f").ok
    assert requests.get(simulator.url + "_simulator/health", timeout=5).json() == {"status": "ok", "sent": 1}


@pytest.mark.parametrize("body", [{"fail_rate": 2}, {"nonsense": 1}, {"fail_rate": 0.6, "hang_rate": 0.6}])
def test_bad_fault_settings_are_refused(simulator, body):
    assert requests.post(simulator.url + "_simulator/faults", json=body, timeout=5).status_code == 400


def test_the_sent_list_masks_numbers_unless_asked_in_full(simulator, client):
    client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#s")
    masked = requests.get(simulator.url + "_simulator/sent", timeout=5).json()
    full = requests.get(simulator.url + "_simulator/sent?full=1", timeout=5).json()
    assert (masked[0]["phone"], full[0]["phone"]) == ("138****8000", PHONE)
    assert masked[0]["serial_no"] == full[0]["serial_no"] and masked[0]["session_context"] == "evt#s"


def test_undelivered_numbers_are_set_over_http(simulator, client):
    answer = requests.post(simulator.url + "_simulator/undelivered", json={"numbers": {PHONE: "UNDELIV"}}, timeout=5)
    assert answer.json() == {"numbers": {"138****8000": "UNDELIV"}}
    client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#u")
    assert wait_for(lambda: simulator.sent[0].status == "FAIL")
    assert simulator.sent[0].err_code == "UNDELIV"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-TC-Version": "2017-03-12"}, "NoSuchVersion"),
        ({"X-TC-Action": "DeleteEverything"}, "InvalidAction"),
        ({"Authorization": "HMAC-SHA1 nonsense"}, "AuthFailure.InvalidAuthorization"),
        ({"Host": "elsewhere.example"}, "AuthFailure.SignatureFailure"),
    ],
)
def test_requests_tencent_would_refuse_are_refused_with_its_codes(simulator, headers, code):
    body = json.dumps({"TemplateIdSet": [1001], "International": 0}).encode()
    signed = tc3.signed_headers(TEST_SECRET_ID, TEST_SECRET_KEY, body, f"127.0.0.1:{simulator.port}",
                                action="DescribeSmsTemplateList", version="2021-01-11", region="ap-guangzhou",
                                timestamp=int(datetime.now(UTC).timestamp()), service="sms")  # fmt: skip
    answer = requests.post(simulator.url, data=body, headers={**signed, **headers}, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json()["Response"]["Error"]["Code"] == code


ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared")])}


def test_command_line_serves_until_interrupted():
    env = {**ENV, "TENCENT_SECRET_ID": "AKIDcli", "TENCENT_SECRET_KEY": "cli-key",
           "TENCENT_SMS_SDK_APP_ID": "1400009999"}  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "infra.tencent_simulator", "--port", "0"], env=env,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = json.loads(process.stderr.readline())["message"].rsplit(" ", 1)[1]
        assert requests.get(url + "_simulator/health", timeout=5).json()["status"] == "ok"
        client = TencentClient(url, "AKIDcli", "cli-key", "1400009999")
        assert client.send([PHONE], "威海人社", TEMPLATE, {"name": "张三"}, "evt#cli").ok
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def test_command_line_needs_the_key_pair_and_application():
    env = {k: v for k, v in ENV.items() if not k.startswith("TENCENT_")}
    result = subprocess.run([sys.executable, "-m", "infra.tencent_simulator", "--port", "0"], env=env,
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 2 and "TENCENT_SECRET_ID" in result.stderr
