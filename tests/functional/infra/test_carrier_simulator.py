"""The carrier simulator as any Alibaba Cloud SMS client sees it: raw signed HTTP requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import pathname2url

import pytest
import requests
from sms_platform.carrier import signing
from sms_platform.foundation.clock import FixedClock, set_clock

from infra.carrier_simulator import CarrierSimulator
from tests.carrier_fixtures import TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET

PHONE = "13800138000"
NOW = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
SEND = {"PhoneNumbers": PHONE, "SignName": "威海人社", "TemplateCode": "SMS_1", "TemplateParam": '{"name":"张三"}'}


@pytest.fixture(autouse=True)
def clock():
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


def signed(action, params, *, method="POST", key_id=TEST_ACCESS_KEY_ID, secret=TEST_ACCESS_KEY_SECRET, **kw):
    return signing.signed_params(
        action, params, key_id, secret, now=kw.get("now", NOW), nonce=kw.get("nonce", uuid.uuid4().hex), method=method
    )


def post_form(url, params):
    return requests.post(url, data=params, timeout=5)


def answer(response):
    return response.status_code, response.json()["Code"]


class Receiver:
    """A small local HTTP server standing in for the platform's push endpoints."""

    def __init__(self, statuses=()):
        self.requests: list[tuple[str, object]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, json.loads(body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                data = json.dumps({"code": 0, "msg": "成功"}).encode()
                self.send_response(status)
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
def receiver():
    r = Receiver()
    yield r
    r.close()


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# -- authentication -------------------------------------------------------------------------


def test_wrong_signature_is_rejected_and_sends_nothing(carrier_simulator):
    params = signed("SendSms", SEND)
    params["PhoneNumbers"] = "13900139000"  # changed after signing

    response = post_form(carrier_simulator.url, params)

    assert answer(response) == (400, "SignatureDoesNotMatch")
    assert carrier_simulator.sent == []


def test_wrong_secret_is_rejected(carrier_simulator):
    response = post_form(carrier_simulator.url, signed("SendSms", SEND, secret="not-the-secret"))
    assert answer(response) == (400, "SignatureDoesNotMatch")


def test_unknown_access_key_is_rejected(carrier_simulator):
    response = post_form(carrier_simulator.url, signed("SendSms", SEND, key_id="who-is-this"))
    assert answer(response) == (404, "InvalidAccessKeyId.NotFound")
    assert carrier_simulator.sent == []


def test_signature_is_checked_over_the_method_actually_used(carrier_simulator):
    response = post_form(carrier_simulator.url, signed("SendSms", SEND, method="GET"))
    assert answer(response) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=14), (200, "OK")),
        (timedelta(minutes=-14), (200, "OK")),
        (timedelta(minutes=16), (400, "InvalidTimeStamp.Expired")),
        (timedelta(minutes=-16), (400, "InvalidTimeStamp.Expired")),
    ],
)
def test_timestamp_must_be_within_fifteen_minutes(carrier_simulator, age, expected):
    response = post_form(carrier_simulator.url, signed("SendSms", SEND, now=NOW - age))
    assert answer(response) == expected


def test_a_nonce_is_used_once(carrier_simulator):
    first = post_form(carrier_simulator.url, signed("SendSms", SEND, nonce="same-nonce"))
    again = post_form(carrier_simulator.url, signed("SendSms", {**SEND, "OutId": "2"}, nonce="same-nonce"))
    assert answer(first) == (200, "OK")
    assert answer(again) == (400, "SignatureNonceUsed")
    assert len(carrier_simulator.sent) == 1


@pytest.mark.parametrize("missing", ["Signature", "AccessKeyId", "Timestamp", "SignatureNonce"])
def test_missing_common_parameter_is_named(carrier_simulator, missing):
    params = signed("SendSms", SEND)
    del params[missing]
    assert answer(post_form(carrier_simulator.url, params)) == (400, f"Missing{missing}")


def test_unknown_action_is_not_found(carrier_simulator):
    assert answer(post_form(carrier_simulator.url, signed("SendMail", {}))) == (404, "InvalidAction.NotFound")


# -- how parameters travel ------------------------------------------------------------------


def test_get_with_parameters_in_the_query_string(carrier_simulator):
    response = requests.get(carrier_simulator.url, params=signed("SendSms", SEND, method="GET"), timeout=5)
    assert answer(response) == (200, "OK")
    assert carrier_simulator.sent[0].params == {"name": "张三"}


def test_post_with_parameters_in_the_query_string(carrier_simulator):
    response = requests.post(carrier_simulator.url, params=signed("SendSms", SEND), timeout=5)
    assert answer(response) == (200, "OK")


def test_post_with_common_parameters_in_the_query_and_the_rest_in_the_form(carrier_simulator):
    params = signed("SendSms", SEND)
    body = {k: params.pop(k) for k in SEND}
    response = requests.post(carrier_simulator.url, params=params, data=body, timeout=5)
    assert answer(response) == (200, "OK")
    assert carrier_simulator.sent[0].sign_name == "威海人社"


def _pop_standard(text):
    return text.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def sdk_signed_request(method, url_params, body_params, access_key_id, secret, now):
    """Sign as aliyun-python-sdk-core's RPC signer does: common parameters in the URL, with an
    empty ``SignatureType``, business parameters in a form body for POST, and the canonical
    query built with urlencode and pathname2url."""
    url_params = dict(url_params)
    url_params.update(
        Timestamp=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        SignatureMethod="HMAC-SHA1",
        SignatureType="",
        SignatureVersion="1.0",
        SignatureNonce=str(uuid.uuid4()),
        AccessKeyId=access_key_id,
        Format="JSON",
    )
    to_sign = {**url_params, **body_params}
    sorted_query = _pop_standard(urlencode(sorted(to_sign.items())))
    string_to_sign = method + "&%2F&" + _pop_standard(pathname2url(sorted_query))
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    url_params["Signature"] = base64.b64encode(digest).decode()
    return "/?" + _pop_standard(urlencode(url_params)), urlencode(body_params)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_request_signed_like_the_official_python_sdk_is_accepted(carrier_simulator, method):
    business = {
        "PhoneNumbers": PHONE,
        "SignName": "威海人社",
        "TemplateCode": "SMS_1",
        "TemplateParam": json.dumps({"name": "张 三*~"}, ensure_ascii=False),
        "OutId": "sdk 1",
    }
    common = {"Action": "SendSms", "Version": "2017-05-25", "RegionId": "cn-hangzhou"}
    if method == "GET":
        path, _ = sdk_signed_request("GET", {**common, **business}, {}, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, NOW)
        response = requests.get(carrier_simulator.url.rstrip("/") + path, timeout=5)
    else:
        path, body = sdk_signed_request("POST", common, business, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, NOW)
        response = requests.post(
            carrier_simulator.url.rstrip("/") + path,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )

    assert answer(response) == (200, "OK")
    message = carrier_simulator.sent[0]
    assert (message.params, message.out_id) == ({"name": "张 三*~"}, "sdk 1")


# -- actions and their refusals --------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("SendSms", {**SEND, "PhoneNumbers": ",".join([PHONE] * 1001)}, "isv.MOBILE_COUNT_OVER_LIMIT"),
        ("SendSms", {**SEND, "TemplateParam": "{not json"}, "isv.INVALID_JSON_PARAM"),
        ("SendSms", {**SEND, "OutId": "x" * 257}, "isv.OUT_ID_OVER_LIMIT"),
        ("SendSms", {**SEND, "PhoneNumbers": "+86 138 0013 8000"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        (
            "SendBatchSms",
            {"PhoneNumberJson": json.dumps([PHONE] * 2), "SignNameJson": '["威海人社"]', "TemplateCode": "SMS_1"},
            "isv.INVALID_PARAMETERS",
        ),
        (
            "SendBatchSms",
            {
                "PhoneNumberJson": json.dumps([PHONE] * 101),
                "SignNameJson": json.dumps(["威海人社"] * 101, ensure_ascii=False),
                "TemplateCode": "SMS_1",
            },
            "isv.MOBILE_COUNT_OVER_LIMIT",
        ),
        (
            "QuerySendDetails",
            {"PhoneNumber": PHONE, "SendDate": "20250302", "PageSize": "51"},
            "isv.INVALID_PARAMETERS",
        ),
        ("QuerySendDetails", {"PhoneNumber": PHONE, "SendDate": "2025-03-02"}, "isv.INVALID_PARAMETERS"),
        (
            "AddSmsTemplate",
            {"TemplateType": "9", "TemplateName": "n", "TemplateContent": "c"},
            "isv.INVALID_PARAMETERS",
        ),
    ],
)
def test_business_refusals_answer_http_200_with_the_carrier_code(carrier_simulator, action, params, code):
    response = post_form(carrier_simulator.url, signed(action, params))
    assert answer(response) == (200, code)
    assert response.json()["RequestId"]
    assert carrier_simulator.sent == []


def test_international_prefixes_are_accepted_and_normalised(carrier_simulator):
    response = post_form(carrier_simulator.url, signed("SendSms", {**SEND, "PhoneNumbers": "+8613800138000"}))
    assert answer(response) == (200, "OK")
    assert carrier_simulator.sent[0].phone == PHONE


def test_query_send_details_shows_the_rendered_content_and_out_id(carrier_simulator):
    carrier_simulator.file_template("SMS_1", "${name}您好，您的社保卡已制成。")
    post_form(carrier_simulator.url, signed("SendSms", {**SEND, "OutId": "card-9"}))

    response = post_form(
        carrier_simulator.url, signed("QuerySendDetails", {"PhoneNumber": PHONE, "SendDate": "20250302"})
    )

    details = response.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
    assert details == [
        {
            "PhoneNum": PHONE,
            "SendStatus": 1,
            "ErrCode": "",
            "TemplateCode": "SMS_1",
            "Content": "【威海人社】张三您好，您的社保卡已制成。",
            "SendDate": "2025-03-02 07:30:00",
            "ReceiveDate": "",
            "OutId": "card-9",
        }
    ]


# -- receipts and replies -------------------------------------------------------------------


RECEIPT_KEYS = {
    "phone_number",
    "send_time",
    "report_time",
    "success",
    "err_code",
    "err_msg",
    "sms_size",
    "biz_id",
    "out_id",
}


def test_receipts_are_pushed_to_the_receipt_url(carrier_simulator, receiver):
    carrier_simulator.receipt_url = receiver.url + "/v1/carrier/receipts?token=test-callback-token"
    carrier_simulator.receipt_delay = 0.05
    ok = post_form(carrier_simulator.url, signed("SendSms", {**SEND, "OutId": "r-ok"})).json()
    carrier_simulator.set_faults(undelivered_rate=1.0)
    bad = post_form(
        carrier_simulator.url, signed("SendSms", {**SEND, "OutId": "r-bad", "TemplateCode": "SMS_2"})
    ).json()

    assert wait_for(lambda: len(receiver.requests) == 2)
    paths = {path for path, _ in receiver.requests}
    assert paths == {"/v1/carrier/receipts?token=test-callback-token"}
    receipts = {body[0]["out_id"]: body[0] for _, body in receiver.requests}
    assert all(set(r) == RECEIPT_KEYS for r in receipts.values())
    assert (receipts["r-ok"]["success"], receipts["r-ok"]["err_code"], receipts["r-ok"]["biz_id"]) == (
        True,
        "DELIVERED",
        ok["BizId"],
    )
    assert (receipts["r-bad"]["success"], receipts["r-bad"]["err_code"], receipts["r-bad"]["biz_id"]) == (
        False,
        "MK:0001",
        bad["BizId"],
    )
    assert receipts["r-ok"]["phone_number"] == PHONE and receipts["r-ok"]["send_time"] == "2025-03-02 07:30:00"


def test_a_batch_send_pushes_one_array_of_receipts(carrier_simulator, receiver):
    carrier_simulator.receipt_url = receiver.url + "/r"
    carrier_simulator.receipt_delay = 0.05
    phones = [PHONE, "13900139000", "15300000001"]
    params = {
        "PhoneNumberJson": json.dumps(phones),
        "SignNameJson": json.dumps(["威海人社"] * 3, ensure_ascii=False),
        "TemplateCode": "SMS_1",
        "TemplateParamJson": json.dumps([{"name": "甲"}, {"name": "乙"}, {"name": "丙"}], ensure_ascii=False),
        "OutId": "b-1",
    }
    assert answer(post_form(carrier_simulator.url, signed("SendBatchSms", params))) == (200, "OK")
    assert wait_for(lambda: len(receiver.requests) == 1)
    assert [r["phone_number"] for r in receiver.requests[0][1]] == phones


def test_numbers_set_undelivered_get_their_status_in_the_receipt(carrier_simulator, receiver):
    carrier_simulator.receipt_url = receiver.url + "/r"
    carrier_simulator.receipt_delay = 0.05
    response = requests.post(
        carrier_simulator.url + "_simulator/undelivered", json={"numbers": {"13900139000": "DB:0101"}}, timeout=5
    )
    assert response.status_code == 200 and response.json() == {"numbers": {"139****9000": "DB:0101"}}
    phones = [PHONE, "13900139000"]
    params = {
        "PhoneNumberJson": json.dumps(phones),
        "SignNameJson": json.dumps(["威海人社"] * 2, ensure_ascii=False),
        "TemplateCode": "SMS_1",
        "TemplateParamJson": json.dumps([{"name": "甲"}, {"name": "乙"}], ensure_ascii=False),
        "OutId": "u-1",
    }
    assert answer(post_form(carrier_simulator.url, signed("SendBatchSms", params))) == (200, "OK")
    assert wait_for(lambda: len(receiver.requests) == 1)
    outcome = {r["phone_number"]: (r["success"], r["err_code"]) for r in receiver.requests[0][1]}
    assert outcome == {PHONE: (True, "DELIVERED"), "13900139000": (False, "DB:0101")}

    carrier_simulator.set_undelivered({})
    post_form(carrier_simulator.url, signed("SendSms", {**SEND, "PhoneNumbers": "13900139000", "OutId": "u-2"}))
    assert wait_for(lambda: len(receiver.requests) == 2)
    assert receiver.requests[1][1][0]["success"] is True


@pytest.mark.parametrize(
    "body", [{"numbers": {"13900139000": 7}}, {"numbers": ["13900139000"]}, {"numbers": {"1": ""}}, [1]]
)
def test_bad_undelivered_numbers_are_refused(carrier_simulator, body):
    response = requests.post(carrier_simulator.url + "_simulator/undelivered", json=body, timeout=5)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_a_refused_receipt_is_pushed_again(carrier_simulator):
    receiver = Receiver(statuses=[503])
    try:
        carrier_simulator.receipt_url = receiver.url + "/r"
        carrier_simulator.receipt_delay = 0.05
        carrier_simulator.receipt_retry_delay = 0.05
        post_form(carrier_simulator.url, signed("SendSms", SEND))
        assert wait_for(lambda: len(carrier_simulator.receipts) == 1)
        assert len(receiver.requests) == 2
    finally:
        receiver.close()


def test_replies_are_pushed_on_demand(carrier_simulator, receiver):
    carrier_simulator.inbound_url = receiver.url + "/v1/carrier/inbound?token=t"
    pushed = carrier_simulator.push_reply(PHONE, "TD", "威海人社")
    assert pushed["status"] == 200
    path, body = receiver.requests[0]
    assert path == "/v1/carrier/inbound?token=t"
    assert set(body[0]) == {"phone_number", "send_time", "content", "sign_name", "dest_code", "sequence_id"}
    assert (body[0]["phone_number"], body[0]["content"], body[0]["sign_name"]) == (PHONE, "TD", "威海人社")


# -- control endpoints ----------------------------------------------------------------------


def test_control_endpoint_pushes_a_reply_and_masks_the_number(carrier_simulator, receiver):
    carrier_simulator.inbound_url = receiver.url + "/in"
    response = requests.post(
        carrier_simulator.url + "_simulator/replies",
        json={"phone": PHONE, "content": "退订", "sign_name": "威海人社"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["item"]["phone_number"] == "138****8000"
    assert receiver.requests[0][1][0]["phone_number"] == PHONE


def test_control_endpoint_without_inbound_url_is_a_conflict(carrier_simulator):
    response = requests.post(
        carrier_simulator.url + "_simulator/replies",
        json={"phone": PHONE, "content": "T", "sign_name": "威海人社"},
        timeout=5,
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_sent_list_masks_numbers_unless_asked_in_full(carrier_simulator):
    post_form(carrier_simulator.url, signed("SendSms", SEND))
    masked = requests.get(carrier_simulator.url + "_simulator/sent", timeout=5).json()
    full = requests.get(carrier_simulator.url + "_simulator/sent?full=1", timeout=5).json()
    assert [m["phone"] for m in masked] == ["138****8000"]
    assert [m["phone"] for m in full] == [PHONE]
    assert masked[0]["params"] == {"name": "张三"} and masked[0]["sign_name"] == "威海人社"


def test_faults_are_set_over_http(carrier_simulator):
    response = requests.post(carrier_simulator.url + "_simulator/faults", json={"throttle_rate": 1.0}, timeout=5)
    assert response.status_code == 200 and response.json()["throttle_rate"] == 1.0
    assert answer(post_form(carrier_simulator.url, signed("SendSms", SEND))) == (400, "Throttling.User")
    assert requests.get(carrier_simulator.url + "_simulator/health", timeout=5).json() == {"status": "ok", "sent": 0}


@pytest.mark.parametrize("body", [{"explode_rate": 1.0}, {"fail_rate": 2}, {"fail_rate": 0.6, "hang_rate": 0.6}, [1]])
def test_bad_fault_settings_are_refused(carrier_simulator, body):
    response = requests.post(carrier_simulator.url + "_simulator/faults", json=body, timeout=5)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_fault_sequence_is_the_same_every_run():
    def run():
        with CarrierSimulator(access_keys={TEST_ACCESS_KEY_ID: TEST_ACCESS_KEY_SECRET}, seed=7) as simulator:
            simulator.set_faults(fail_rate=0.3, throttle_rate=0.3)
            return [
                answer(post_form(simulator.url, signed("SendSms", {**SEND, "OutId": str(i)})))[1] for i in range(12)
            ]

    first = run()
    assert first == run()
    assert {"OK", "InternalError", "Throttling.User"} <= set(first)


def test_duplicates_name_numbers_that_got_the_same_text_twice(carrier_simulator):
    carrier_simulator.file_template("SMS_1", "${name}您好。")
    for out_id in ("a", "b"):
        post_form(carrier_simulator.url, signed("SendSms", {**SEND, "OutId": out_id}))
    post_form(carrier_simulator.url, signed("SendSms", {**SEND, "PhoneNumbers": "13900139000"}))
    assert carrier_simulator.duplicates() == [("138****8000", "【威海人社】张三您好。")]


# -- command line ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared")])}


def test_command_line_serves_until_interrupted():
    env = {**ENV, "CARRIER_ACCESS_KEY_ID": "cli-id", "CARRIER_ACCESS_KEY_SECRET": "cli-secret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.carrier_simulator", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = json.loads(process.stderr.readline())
        url = line["message"].rsplit(" ", 1)[1]
        assert requests.get(url + "_simulator/health", timeout=5).json()["status"] == "ok"
        now = datetime.now(UTC)  # the child runs on the wall clock
        params = signing.signed_params("SendSms", SEND, "cli-id", "cli-secret", now=now, nonce=uuid.uuid4().hex)
        assert answer(post_form(url, params)) == (200, "OK")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def test_command_line_needs_the_key_pair():
    env = {k: v for k, v in ENV.items() if not k.startswith("CARRIER_ACCESS_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "infra.carrier_simulator", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "CARRIER_ACCESS_KEY_ID" in result.stderr
